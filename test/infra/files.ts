/** Paths and file reading for the infra tests. */
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
