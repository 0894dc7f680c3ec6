/**
 * azd postprovision hook: creates the app's tables and seeds the shipped agent definitions and tool data,
 * keyless, with the deployer's Entra login (DefaultAzureCredential includes the azd and az CLI credentials).
 * azd exports the Bicep outputs (STORAGE_TABLE_ENDPOINT, ...) as environment variables before running it.
 *
 * Role assignments take a minute or two to propagate after the first provision, so 403s are retried.
 */
import { ensureTables } from '../../shared/storage/tables';
import { seedAll } from '../../shared/tools/seed-all';

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

async function main(): Promise<void> {
  if (!endpoint) {
    console.error('postprovision: STORAGE_TABLE_ENDPOINT is not set (run through `azd provision`).');
    process.exit(1);
  }
  const config = { STORAGE_TABLE_ENDPOINT: endpoint };
  await withRoleRetry({ name: 'create tables', run: () => ensureTables(config) });
  // agents/*.json (schema-validated) + the MCP tools' orders and knowledge base; idempotent upserts.
  await withRoleRetry({ name: 'seed agents and tool data', run: () => seedAll(config) });
}

main().catch((err: unknown) => {
  // Never print the error object wholesale: SDK errors can carry request headers.
  console.error(`postprovision failed: ${(err as Error).message ?? String(err)}`);
  process.exit(1);
});
