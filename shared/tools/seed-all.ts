import { createAgentStore, loadAgentFiles } from '../agents/store';
import type { StorageConfig } from '../storage/tables';
import { seedToolData } from './data';

/**
 * Seeds everything the MCP tools and agents need: agents/*.json (validated — a broken file stops the seed with
 * the file and field named) and the shipped orders and knowledge base. Idempotent (upserts).
 */
export async function seedAll(config: StorageConfig, opts: { agentsDir?: string } = {}) {
  const defs = await loadAgentFiles(opts.agentsDir);
  await createAgentStore(config).seed(defs);
  const data = await seedToolData(config);
  return { agents: defs.map((d) => d.id), ...data };
}
