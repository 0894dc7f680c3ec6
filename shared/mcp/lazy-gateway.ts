import type { AgentDefinition } from '../agents/schema';
import type { GatewayConfig, GatewayOptions, McpToolGateway } from './gateway';
import type { SessionCaller } from './identity';
import type { ToolCall } from './types';

/**
 * The MCP gateway, loaded on first use: the MCP SDK, Ajv and the protocol schemas are most of a bundle's weight,
 * and a Function instance that only answers health checks or webhooks never needs them. The first session start
 * of an instance pays the import once (next to its first tools/list, which it pays anyway).
 */
export function createLazyToolGateway(config: GatewayConfig, opts: GatewayOptions = {}): McpToolGateway {
  let gateway: Promise<McpToolGateway> | undefined;
  const load = () => (gateway ??= import('./gateway').then((m) => m.createToolGateway(config, opts)));
  return {
    toolsFor: async (agent: AgentDefinition) => (await load()).toolsFor(agent),
    run: async (agent: AgentDefinition, call: ToolCall, signal?: AbortSignal, caller?: SessionCaller) =>
      (await load()).run(agent, call, signal, caller),
    retrySafe: async (agent: AgentDefinition, name: string) => (await load()).retrySafe(agent, name),
    close: async () => {
      if (gateway) await (await gateway).close();
    },
  };
}
