/**
 * The compiled ARM template of infra/main.bicep, as `npm run infra:check` leaves it in infra/.bicep/main.json.
 * `npm test` runs the check first; a direct `npx vitest run test/infra/...` on a fresh clone (or after a Bicep
 * edit) runs it here, synchronously, so the tests never read a template older than the Bicep. It runs when this
 * module is imported (test collection, which no test timeout bounds): a compile takes tens of seconds on a loaded
 * machine.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { INFRA_DIR, REPO, inputsHash, outputsOf } from '../../infra/tools/bicep';
import { evaluate, type Evaluation } from './arm-eval';

let cached: Record<string, any> | undefined;

export function compiledTemplate(): Record<string, any> {
  if (cached) return cached;
  const { template, stamp } = outputsOf(INFRA_DIR);
  const fresh = existsSync(stamp) && readFileSync(stamp, 'utf8') === inputsHash(INFRA_DIR) && existsSync(template);
  if (!fresh) execFileSync(process.execPath, ['--import', 'tsx', 'infra/tools/check.ts'], { cwd: REPO, stdio: 'pipe' });
  cached = JSON.parse(readFileSync(template, 'utf8')) as Record<string, any>;
  return cached;
}

/** What azd passes on a first `azd up` (main.parameters.json with an empty environment), plus overrides. */
export const BASE_PARAMS = {
  environmentName: 'ci',
  location: 'eastus2',
  entraAudience: 'api://voice-agents',
  workerAuthSeed: 'seed-seed-seed-1',
  mcpKeySeed: 'seed-seed-seed-2',
  principalId: '11111111-1111-1111-1111-111111111111',
};

compiledTemplate();

export function deploy(overrides: Record<string, unknown> = {}): Evaluation {
  return evaluate(compiledTemplate(), { ...BASE_PARAMS, ...overrides });
}
