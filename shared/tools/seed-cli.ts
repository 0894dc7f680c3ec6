import type { CommonConfig } from '../config/index';
import { ensureTables, TABLES } from '../storage/tables';
import { seedAll } from './seed-all';

/**
 * `npm run seed [agentsDir]` — seeds agents and tool data into the configured Table Storage (Azurite, or Azure
 * keyless with STORAGE_TABLE_ENDPOINT). Only the storage settings are needed. Exit 2: not configured; 1: failed
 * (an invalid agent file is named with its field).
 */
const env = process.env;
const storage: Pick<CommonConfig, 'STORAGE_CONNECTION_STRING' | 'STORAGE_TABLE_ENDPOINT'> = {
  STORAGE_CONNECTION_STRING: env.STORAGE_CONNECTION_STRING || undefined,
  STORAGE_TABLE_ENDPOINT: env.STORAGE_TABLE_ENDPOINT || undefined,
};
if (!storage.STORAGE_CONNECTION_STRING && !storage.STORAGE_TABLE_ENDPOINT) {
  console.error('STORAGE_CONNECTION_STRING: set it (local) or STORAGE_TABLE_ENDPOINT (managed identity)');
  process.exit(2);
}
try {
  await ensureTables(storage, [TABLES.agents, TABLES.orders, TABLES.tickets, TABLES.knowledge]);
  const r = await seedAll(storage, { agentsDir: process.argv[2] });
  console.log(`seeded agents ${r.agents.join(', ')}; ${r.orders} orders; ${r.articles} articles`);
} catch (err) {
  console.error(`seed failed: ${(err as Error).message}`);
  process.exit(1);
}
