/**
 * Just enough Bicep reading for the infra tests (no Bicep CLI can be installed here): comments and string
 * contents are masked so braces inside them do not count, then declarations and object keys are found by
 * position in the masked text and read back from the original.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const INFRA = join(ROOT, 'infra');

export const read = (rel: string) => readFileSync(join(ROOT, rel), 'utf8');

export function bicepFiles(): string[] {
  const mods = readdirSync(join(INFRA, 'modules'))
    .filter((f) => f.endsWith('.bicep'))
    .map((f) => `infra/modules/${f}`);
  return ['infra/main.bicep', ...mods.sort()];
}

/** Same length as `src`; comments and string contents (not interpolations) become spaces. */
export function mask(src: string): string {
  const out = src.split('');
  let i = 0; // eslint-disable-line no-useless-assignment -- the scanner's cursor
  const blank = (from: number, to: number) => {
    for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' ';
  };
  // Returns the index after the closing quote; interpolations inside are scanned as code.
  const scanString = (start: number): number => {
    if (src.startsWith("'''", start)) {
      const end = src.indexOf("'''", start + 3);
      const stop = end < 0 ? src.length : end + 3;
      blank(start + 3, stop - 3);
      return stop;
    }
    let k = start + 1;
    while (k < src.length) {
      const c = src[k];
      if (c === '\\') {
        blank(k, k + 2);
        k += 2;
      } else if (c === "'") {
        return k + 1;
      } else if (c === '$' && src[k + 1] === '{') {
        k = scanCode(k + 2, true);
      } else {
        blank(k, k + 1);
        k++;
      }
    }
    return k;
  };
  // Scans code until the end (or, inside an interpolation, until its closing brace).
  const scanCode = (start: number, interpolation: boolean): number => {
    let k = start;
    let depth = 0;
    while (k < src.length) {
      const c = src[k];
      if (c === "'") k = scanString(k);
      else if (c === '/' && src[k + 1] === '/') {
        const end = src.indexOf('\n', k);
        const stop = end < 0 ? src.length : end;
        blank(k, stop);
        k = stop;
      } else if (c === '/' && src[k + 1] === '*') {
        const end = src.indexOf('*/', k + 2);
        const stop = end < 0 ? src.length : end + 2;
        blank(k, stop);
        k = stop;
      } else {
        if (interpolation && c === '{') depth++;
        if (interpolation && c === '}') {
          if (depth === 0) return k + 1;
          depth--;
        }
        k++;
      }
    }
    return k;
  };
  i = scanCode(0, false);
  void i;
  return out.join('');
}

const PAIRS: Record<string, string> = { '{': '}', '[': ']', '(': ')' };

/** Index of the bracket closing the one at `open` (in masked text). */
export function matching(masked: string, open: number): number {
  const stack: string[] = [];
  for (let k = open; k < masked.length; k++) {
    const c = masked[k]!;
    if (c in PAIRS) stack.push(PAIRS[c]!);
    else if (c === '}' || c === ']' || c === ')') {
      if (stack.pop() !== c) throw new Error(`unbalanced '${c}' at offset ${k}`);
      if (stack.length === 0) return k;
    }
  }
  throw new Error(`no closing bracket for offset ${open}`);
}

/** Problems with bracket balance, for the structural test. */
export function bracketProblems(src: string): string[] {
  const m = mask(src);
  const stack: { c: string; at: number }[] = [];
  const problems: string[] = [];
  for (let k = 0; k < m.length; k++) {
    const c = m[k]!;
    if (c in PAIRS) stack.push({ c: PAIRS[c]!, at: k });
    else if (c === '}' || c === ']' || c === ')') {
      const top = stack.pop();
      if (top?.c !== c) problems.push(`unexpected '${c}' at line ${src.slice(0, k).split('\n').length}`);
    }
  }
  for (const s of stack) problems.push(`unclosed bracket from line ${src.slice(0, s.at).split('\n').length}`);
  return problems;
}

export interface Block {
  start: number; // index of the opening bracket
  end: number; // index of the closing bracket
  text: string; // original text including brackets
}

/** The first `{` or `[` at/after `from`, with its matching close. */
export function blockFrom(src: string, from: number, masked = mask(src)): Block {
  const open = masked.slice(from).search(/[{[]/);
  if (open < 0) throw new Error(`no block after offset ${from}`);
  const start = from + open;
  const end = matching(masked, start);
  return { start, end, text: src.slice(start, end + 1) };
}

/** Entries of an object literal's first level (`key: value`, separated by newlines or commas). */
export function topLevelEntries(src: string, block: Block, masked = mask(src)): { key: string; value: string }[] {
  const entries: { key: string; value: string }[] = [];
  let depth = 0;
  let segStart = block.start + 1;
  const flush = (to: number) => {
    const seg = src.slice(segStart, to).trim();
    const mSeg = masked.slice(segStart, to).trim();
    const m = /^([A-Za-z_]\w*|'[^']*')\s*:\s*([\s\S]*)$/.exec(seg);
    if (m && mSeg !== '') entries.push({ key: m[1]!.replace(/'/g, ''), value: m[2]!.trim() });
  };
  for (let k = block.start + 1; k < block.end; k++) {
    const c = masked[k]!;
    if (c === '{' || c === '[' || c === '(') depth++;
    else if (c === '}' || c === ']' || c === ')') depth--;
    else if (depth === 0 && (c === '\n' || c === ',')) {
      flush(k);
      segStart = k + 1;
    }
  }
  flush(block.end);
  return entries;
}

/** Keys of `var <name> = { ... }`. */
export function varObjectEntries(src: string, name: string) {
  const at = new RegExp(`^var\\s+${name}\\s*=\\s*\\{`, 'm').exec(src);
  if (!at) throw new Error(`var ${name} = { ... } not found`);
  const masked = mask(src);
  return topLevelEntries(src, blockFrom(src, at.index, masked), masked);
}

export interface Param {
  name: string;
  type: string;
  hasDefault: boolean;
  decorators: string[];
  line: number;
}

export function params(src: string): Param[] {
  const lines = src.split('\n');
  const out: Param[] = [];
  lines.forEach((line, idx) => {
    const m = /^param\s+(\w+)\s+(\S+)(\s*=.*)?$/.exec(line.trim());
    if (!m || !line.startsWith('param')) return;
    const decorators: string[] = [];
    for (let j = idx - 1; j >= 0 && lines[j]!.trim().startsWith('@'); j--) decorators.unshift(lines[j]!.trim());
    out.push({ name: m[1]!, type: m[2]!, hasDefault: Boolean(m[3]), decorators, line: idx + 1 });
  });
  return out;
}

export interface Resource {
  symbol: string;
  type: string;
  apiVersion: string;
  existing: boolean;
  body: Block;
}

/** Every `resource` declaration, nested ones included (their type is the short child type). */
export function resources(src: string): Resource[] {
  const masked = mask(src);
  const out: Resource[] = [];
  const re = /^\s*resource\s+(\w+)\s+'([^'@]+)(?:@([^']+))?'\s*(existing\s*)?=/gm;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    if (masked.slice(m.index, m.index + m[0].length).trim() === '') continue; // inside a comment
    const bodyOpen = masked.indexOf('{', m.index + m[0].length);
    out.push({
      symbol: m[1]!,
      type: m[2]!,
      apiVersion: m[3] ?? '',
      existing: Boolean(m[4]),
      body: blockFrom(src, bodyOpen, masked),
    });
  }
  return out;
}

export interface ModuleUse {
  symbol: string;
  path: string;
  params: { key: string; value: string }[];
  body: Block;
}

export function modules(src: string): ModuleUse[] {
  const masked = mask(src);
  const out: ModuleUse[] = [];
  const re = /^module\s+(\w+)\s+'([^']+)'\s*=/gm;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    const body = blockFrom(src, m.index + m[0].length, masked);
    const p = /\n\s*params:\s*\{/.exec(body.text);
    const paramsBlock = p ? blockFrom(src, body.start + p.index, masked) : undefined;
    out.push({
      symbol: m[1]!,
      path: m[2]!,
      params: paramsBlock ? topLevelEntries(src, paramsBlock, masked) : [],
      body,
    });
  }
  return out;
}
