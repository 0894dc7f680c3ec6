import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Percentile of a sample (nearest-rank); NaN for an empty sample. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Prints rows as an aligned table and writes `{ name, at, machine, rows, ...extra }` to bench/results/<name>.json. */
export function report(name: string, rows: Record<string, string | number>[], extra: Record<string, unknown> = {}) {
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (typeof v === 'number' ? String(round(v)) : String(v ?? ''));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join('  ');
  console.log(`\n${name}`);
  console.log(line(cols));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) console.log(line(cols.map((c) => cell(r[c]))));
  const file = resolve(process.cwd(), 'bench/results', `${name}.json`);
  mkdirSync(dirname(file), { recursive: true });
  const os = { node: process.version, platform: process.platform, arch: process.arch };
  writeFileSync(file, JSON.stringify({ name, at: new Date().toISOString(), machine: os, rows, ...extra }, null, 2));
  console.log(`\nwrote ${file}`);
}
