/**
 * `npm run infra:check` on broken copies of infra/ in a temporary folder: it fails on a compile error and on a
 * warning alone (the compiler's own warnings cannot be made errors by bicepconfig.json, so the check counts them
 * itself). That it passes on the real files, printing the CLI version, is what `npm test` runs before vitest (and
 * what compiledTemplate() runs here when the compiled template is missing or stale).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { pinnedVersion } from '../../infra/tools/bicep';
import { compiledTemplate } from './compiled';
import { INFRA, ROOT } from './files';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A copy of infra/ (sources only) with `edit` applied to one file, checked by infra/tools/check.ts. */
function checkCopy(file?: string, edit?: (src: string) => string) {
  const dir = mkdtempSync(join(tmpdir(), 'infra-check-'));
  dirs.push(dir);
  const copy = join(dir, 'infra');
  cpSync(INFRA, copy, { recursive: true, filter: (src) => !src.includes('/.bicep') });
  if (file && edit) writeFileSync(join(copy, file), edit(readFileSync(join(copy, file), 'utf8')));
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'infra/tools/check.ts', '--infra', copy], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('npm run infra:check', () => {
  // Restores (a no-op once cached) and compiles the real folder first: the copies differ from it by one edit.
  it('the real files compile to a subscription-scope template', () => {
    expect(compiledTemplate().$schema).toMatch(/subscriptionDeploymentTemplate/);
  });

  it('fails on a compile error in a module, naming the file and line', { timeout: 300_000 }, () => {
    const r = checkCopy('modules/storage.bicep', (src) => src.replace("kind: 'StorageV2'", 'kind: undeclaredSymbol'));
    expect(r.out).toContain(`Bicep CLI version ${pinnedVersion()}`);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/storage\.bicep\(\d+,\d+\) : Error BCP057/);
  });

  it(
    'fails on a compiler warning alone (an unknown property), though bicep build exits 0 on it',
    { timeout: 300_000 },
    () => {
      const r = checkCopy('modules/web-pubsub.bicep', (src) =>
        src.replace('disableLocalAuth: true', 'disableLocalAuth: true\n    notAProperty: true'),
      );
      expect(r.out).toMatch(/web-pubsub\.bicep\(\d+,\d+\) : Warning BCP037/);
      expect(r.status).toBe(1);
    },
  );
});
