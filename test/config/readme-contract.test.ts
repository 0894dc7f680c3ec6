import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS_SETTINGS, WORKER_SETTINGS } from '../../shared/config/index';

describe('README configuration table', () => {
  it('documents every setting either app reads', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const missing = [...new Set([...FUNCTIONS_SETTINGS, ...WORKER_SETTINGS])].filter(
      (s) => !readme.includes(`\`${s}\``),
    );
    expect(missing, `settings missing from README.md: ${missing.join(', ')}`).toEqual([]);
  });

  it('lists every setting in local.settings.sample.json', () => {
    const sample = JSON.parse(readFileSync(new URL('../../local.settings.sample.json', import.meta.url), 'utf8')) as {
      Values: Record<string, string>;
    };
    const functionsOnly = FUNCTIONS_SETTINGS.filter((s) => !(s in sample.Values));
    expect(functionsOnly, `settings missing from local.settings.sample.json: ${functionsOnly.join(', ')}`).toEqual([]);
  });
});
