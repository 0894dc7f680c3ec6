import { createAgentStore, type AgentStore } from '../shared/agents/store';
import type { FunctionsConfig } from '../shared/config/index';
import { createToolData, type ToolData } from '../shared/tools/data';

/**
 * Everything the handlers need, built once per process from configuration. Later features add their stores
 * and clients here so that handlers stay thin and tests can build the same object against Azurite.
 */
export interface AppDeps {
  config: FunctionsConfig;
  /** Agent definitions (Table `agents`, cached in memory). */
  agents: AgentStore;
  /** Orders, tickets and knowledge behind the built-in MCP server. */
  tools: ToolData;
}

export async function createDeps(config: FunctionsConfig): Promise<AppDeps> {
  return { config, agents: createAgentStore(config), tools: createToolData(config) };
}
