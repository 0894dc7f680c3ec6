import { HANDOFF_TOOL, handoffOutput, TRANSFER_TOOL, transferOutput } from '../../shared/agents/call-tools';
import type { AgentDefinition } from '../../shared/agents/schema';
import type { ToolCall, ToolResult } from '../../shared/mcp/types';
import type { SessionConfig } from '../../shared/providers/types';

export interface CallControlOptions {
  agents: ReadonlyMap<string, AgentDefinition>;
  start: AgentDefinition;
  /** Sends the new agent's session (the worker's `session.update` after a handoff). */
  apply(agent: AgentDefinition): Promise<SessionConfig>;
  /** MCP tools, run for the agent speaking now. */
  runTool(agent: AgentDefinition, call: ToolCall): Promise<ToolResult>;
}

const args = (text: string): Record<string, unknown> => {
  try {
    return JSON.parse(text || '{}') as Record<string, unknown>;
  } catch {
    return {};
  }
};

/**
 * The evals talk to the service directly, so the call-control tools the worker answers on a real call are
 * answered here the same way (the same outputs, from shared/agents/call-tools.ts): a handoff applies the new
 * agent's session and its tools from then on; a transfer is acknowledged (there is no SIP leg to refer).
 */
export function callControl(opts: CallControlOptions) {
  let current = opts.start;
  return {
    get agent() {
      return current;
    },
    async run(call: ToolCall): Promise<ToolResult> {
      if (call.name === HANDOFF_TOOL) {
        const { agent, reason } = args(call.arguments);
        const to = typeof agent === 'string' && current.handoffs.includes(agent) ? opts.agents.get(agent) : undefined;
        if (!to) return { output: `You cannot pass the caller to "${String(agent)}".`, isError: true, durationMs: 0 };
        const from = current;
        await opts.apply(to);
        current = to;
        return {
          output: handoffOutput(from, to, typeof reason === 'string' ? reason : undefined),
          isError: false,
          durationMs: 0,
        };
      }
      if (call.name === TRANSFER_TOOL) {
        const { target } = args(call.arguments);
        const known = current.transferTargets.find((t) => t.name === target);
        if (!known) return { output: 'There is no transfer target by that name.', isError: true, durationMs: 0 };
        return { output: transferOutput(known.name), isError: false, durationMs: 0 };
      }
      return opts.runTool(current, call);
    },
  };
}
