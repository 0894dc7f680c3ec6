import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { percentile, report } from './report';

/**
 * Cold start: bundle sizes and the time to import the Function app's bundled entry in a fresh Node process
 * (what a Flex Consumption instance pays before its first request). Targets: ≤ 1 MB, ≤ 300 ms. "loaded at import" adds
 * the chunks the entry imports statically; what only cold paths need (the MCP SDK, telemetry exporters) is in
 * chunks loaded on first use.
 */
execFileSync(process.execPath, ['scripts/bundle.mjs'], { stdio: 'inherit' });

const env = {
  ...process.env,
  AUTH_MODE: 'dev',
  REALTIME_ENDPOINT: 'http://127.0.0.1:9',
  REALTIME_API_KEY: 'bench-key',
  STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
  WORKER_URL: 'http://127.0.0.1:9',
  WORKER_AUTH_SECRET: 'bench-secret-bench-secret',
  FUNCTIONS_BASE_URL: 'http://127.0.0.1:9',
};
const probe = (entry: string) =>
  `const t=performance.now();await import(${JSON.stringify(entry)}).catch(e=>{if(!/functions-core/.test(String(e)))throw e});process.stdout.write(String(performance.now()-t))`;

const rows: Record<string, string | number>[] = [];
// The worker's entry starts serving on import, so only its size is reported; the Function app's entry is what a
// Flex Consumption instance imports before its first request.
if (existsSync('dist/worker/main.js'))
  rows.push({ bundle: 'dist/worker/main.js', 'size KiB': statSync('dist/worker/main.js').size / 1024 });
for (const entry of ['dist/functions/index.js']) {
  if (!existsSync(entry)) continue;
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const r = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', probe(new URL(entry, `file://${process.cwd()}/`).href)],
      { env, encoding: 'utf8' },
    );
    if (r.status !== 0) throw new Error(`importing ${entry} failed: ${r.stderr}`);
    times.push(Number(r.stdout));
  }
  const sizes = JSON.parse(readFileSync(entry.replace(/[^/]+$/, 'sizes.json'), 'utf8')) as { atImport: number };
  rows.push({
    bundle: entry,
    'size KiB': statSync(entry).size / 1024,
    'loaded at import KiB': sizes.atImport / 1024,
    'import p50 ms': percentile(times, 50),
    'import max ms': Math.max(...times),
  });
}
report('cold-start', rows, { targets: { sizeKiB: 1024, importMs: 300 } });
