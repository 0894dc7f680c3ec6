/**
 * What the azd postprovision hook does, importable for tests: create the app's tables, then seed the shipped agent
 * definitions (agents/*.json, schema-validated) and the MCP tools' data. Idempotent: upserts only.
 *
 * Right after the first provision the deployer's new role assignment may not have propagated yet, so a 403 is
 * retried with backoff for a few minutes; any other error stops at once.
 */
import { ensureTables, type StorageConfig } from '../../shared/storage/tables';
import { seedAll } from '../../shared/tools/seed-all';

export interface Step {
  name: string;
  run: () => Promise<unknown>;
}

export interface RetryOptions {
  retryForMs?: number;
  delayMs?: (attempt: number) => number;
  sleep?: (ms: number) => Promise<void>;
  log?: (line: string) => void;
}

export async function withRoleRetry(step: Step, opts: RetryOptions = {}): Promise<void> {
  const retryForMs = opts.retryForMs ?? 5 * 60_000;
  const delayMs = opts.delayMs ?? ((attempt: number) => Math.min(30_000, 5_000 * attempt));
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const log = opts.log ?? console.log;
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await step.run();
      log(`postprovision: ${step.name}: done`);
      return;
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 403 || Date.now() - started > retryForMs) throw err;
      log(`postprovision: ${step.name}: 403 (role assignment still propagating), retry ${attempt}`);
      await sleep(delayMs(attempt));
    }
  }
}

export async function provisionData(
  config: StorageConfig,
  opts: RetryOptions & { agentsDir?: string } = {},
): Promise<{ agents: string[]; orders: number; articles: number }> {
  await withRoleRetry({ name: 'create tables', run: () => ensureTables(config) }, opts);
  let result: { agents: string[]; orders: number; articles: number } | undefined;
  await withRoleRetry(
    {
      name: 'seed agents and tool data',
      run: async () => (result = await seedAll(config, { agentsDir: opts.agentsDir })),
    },
    opts,
  );
  return result!;
}
