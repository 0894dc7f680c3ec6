import { z } from 'zod';
import { HANDOFF_TOOL, handoffOutput } from '../shared/agents/call-tools';
import type { AgentDefinition } from '../shared/agents/schema';
import type { Transport } from '../shared/lifecycle/operations';
import type { SessionConfig } from '../shared/providers/types';
import type { SidebandExtension } from './sideband';

export interface HandoffOptions {
  agents: { get(id: string): Promise<AgentDefinition | undefined> };
  /** The new agent's session: its instructions and the tools its MCP servers offer it. */
  sessionFor(agent: AgentDefinition, sessionId: string, transport: Transport): Promise<SessionConfig>;
  /** The session row and the page learn who speaks now; a failure is logged, the handoff stands. */
  changed?(e: { sessionId: string; from: string; to: string; displayName: string }): Promise<void>;
}

const argsSchema = z.object({ agent: z.string().min(1).max(64), reason: z.string().max(500).optional() });

/**
 * The built-in `handoff` tool: the model passes the caller to one of the agents its definition lists. The worker
 * applies the new agent over the sideband (the call, its audio and the transcript go on); from that moment the
 * tool allow-list, the session lock and the transcript follow the new agent. The voice stays once the caller
 * has heard the old one: the service refuses to change it after assistant audio.
 */
export function handoffs(opts: HandoffOptions): SidebandExtension {
  return (ctx) => {
    let spoken = false;
    const off = ctx.events.on('response.created', () => {
      spoken = true;
    });
    ctx.builtin(HANDOFF_TOOL, async (call) => {
      const from = ctx.prepared.agent;
      let args: z.infer<typeof argsSchema>;
      try {
        args = argsSchema.parse(JSON.parse(call.arguments || '{}'));
      } catch {
        return {
          output: `The ${HANDOFF_TOOL} arguments were invalid. Call it again with one agent id.`,
          isError: true,
        };
      }
      const to = from.handoffs.includes(args.agent) ? await opts.agents.get(args.agent) : undefined;
      if (!to) {
        return {
          output: `You cannot pass the caller to "${args.agent.slice(0, 64)}". Keep helping them yourself.`,
          isError: true,
        };
      }
      const session = await opts.sessionFor(to, ctx.sessionId, ctx.attach.transport);
      const voice = ctx.prepared.session.audio?.output?.voice;
      if (spoken && voice && session.audio?.output) session.audio.output.voice = voice;
      ctx.switchAgent(to, session);
      ctx.log(`session ${ctx.sessionId}: handed off from ${from.id} to ${to.id}`);
      await opts
        .changed?.({ sessionId: ctx.sessionId, from: from.id, to: to.id, displayName: to.displayName })
        .catch((err: unknown) =>
          ctx.log(`session ${ctx.sessionId}: recording the handoff failed: ${(err as Error).message}`),
        );
      return { output: handoffOutput(from, to, args.reason) };
    });
    return off;
  };
}
