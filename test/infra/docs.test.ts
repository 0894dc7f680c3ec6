/** infra/README.md stays true to the Bicep it documents: outputs, knobs, roles and the deploy/teardown commands. */
import { describe, expect, it } from 'vitest';
import { compiledTemplate } from './compiled';
import { read } from './files';

const doc = read('infra/README.md');
const outputNames = Object.keys(compiledTemplate().outputs as object);
const parameters = read('infra/main.parameters.json');
const section = (title: string) => {
  const start = doc.indexOf(`## ${title}`);
  expect(start, `section "${title}" missing`).toBeGreaterThanOrEqual(0);
  const next = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, next < 0 ? undefined : next);
};

describe('infra/README.md', () => {
  it('documents deploy and teardown with the real commands', () => {
    for (const cmd of ['azd auth login', 'azd up', 'azd down --purge', 'azd env set ENTRA_AUDIENCE'])
      expect(doc).toContain(cmd);
  });

  it('lists only outputs the compiled template has, and every one of them', () => {
    const outputs = outputNames;
    const documented = [...section('Where the outputs go').matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!);
    expect(documented.filter((d) => !outputs.includes(d))).toEqual([]);
    expect(
      outputs.filter((o) => !['AZURE_LOCATION', 'AZURE_TENANT_ID'].includes(o) && !documented.includes(o)),
    ).toEqual([]);
  });

  it('lists knobs that main.parameters.json actually reads', () => {
    const knobs = [...section('Deploy').matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!);
    expect(knobs.length).toBeGreaterThan(3);
    for (const k of knobs) expect(parameters, k).toContain(`\${${k}`);
  });

  it('names in the role table only roles from roles.bicep, and all of them', () => {
    const roleNames = [...read('infra/modules/roles.bicep').matchAll(/^\s*\/\/ ([^:\n]+):/gm)].map((m) => m[1]!.trim());
    const table = section('Identities and roles (least privilege)');
    for (const r of roleNames) expect(table, r).toContain(r);
  });

  it('explains what scales to zero and what costs at idle', () => {
    const cost = section('Cost notes for bursty traffic');
    for (const w of [
      'Flex Consumption',
      'WORKER_MIN_REPLICAS=0',
      'Log Analytics',
      'Key Vault',
      'Web PubSub',
      'registry',
      'Storage',
    ])
      expect(cost).toContain(w);
  });
});
