/**
 * azd postprovision hook: creates the app's tables and seeds the shipped agent definitions into Table Storage,
 * keyless, with the deployer's Entra login (DefaultAzureCredential includes the azd and az CLI credentials).
 * azd exports the Bicep outputs (STORAGE_TABLE_ENDPOINT, ...) as environment variables before running it.
 *
 * Role assignments take a minute or two to propagate after the first provision, so 403s are retried.
 */
import { ensureTables } from '../../shared/storage/tables';

const endpoint = process.env.STORAGE_TABLE_ENDPOINT;
const RETRY_FOR_MS = 5 * 60_000;

type Step = { name: string; run: () => Promise<unknown> };

async function withRoleRetry(step: Step): Promise<void> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      await step.run();
      console.log(`postprovision: ${step.name}: done`);
      return;
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status !== 403 || Date.now() - started > RETRY_FOR_MS) throw err;
      console.log(`postprovision: ${step.name}: 403 (role assignment still propagating), retry ${attempt}`);
      await new Promise((r) => setTimeout(r, Math.min(30_000, 5_000 * attempt)));
    }
  }
}

/** The agents module seeds definitions when it exports `seedAgents(config)`; found at run time, not required. */
async function seedAgentsStep(config: { STORAGE_TABLE_ENDPOINT: string }): Promise<Step | undefined> {
  const candidates = ['../../shared/agents/seed', '../../shared/agents/store'];
  for (const path of candidates) {
    const mod = (await import(path).catch(() => undefined)) as
      | { seedAgents?: (c: typeof config) => Promise<unknown> }
      | undefined;
    if (mod?.seedAgents) return { name: 'seed agents', run: () => mod.seedAgents!(config) };
  }
  return undefined;
}

async function main(): Promise<void> {
  if (!endpoint) {
    console.error('postprovision: STORAGE_TABLE_ENDPOINT is not set (run through `azd provision`).');
    process.exit(1);
  }
  const config = { STORAGE_TABLE_ENDPOINT: endpoint };
  await withRoleRetry({ name: 'create tables', run: () => ensureTables(config) });
  const seed = await seedAgentsStep(config);
  if (seed) await withRoleRetry(seed);
  else console.log('postprovision: no agent seeder found; agents are seeded by the app on first use');
}

main().catch((err: unknown) => {
  // Never print the error object wholesale: SDK errors can carry request headers.
  console.error(`postprovision failed: ${(err as Error).message ?? String(err)}`);
  process.exit(1);
});
