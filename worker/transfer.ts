import { z } from 'zod';
import { TRANSFER_TOOL, transferOutput } from '../shared/agents/call-tools';
import type { WorkerReport } from '../shared/worker-client/api';
import type { SidebandExtension } from './sideband';

export interface TransferOptions {
  workerId: string;
  /** SIP REFER through the provider (`RealtimeProvider.referCall`). */
  refer(callId: string, targetUri: string): Promise<void>;
  report(sessionId: string, report: WorkerReport): Promise<void>;
  onTransfer?(e: { agentId: string; target: string; outcome: 'transferred' | 'failed' }): void;
}

const argsSchema = z.object({ target: z.string().min(1).max(64) });

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text || '{}');
  } catch {
    return undefined;
  }
};

/**
 * The built-in `transfer_call` tool on phone calls: the model names one of the agent's targets (never a URI);
 * the caller hears whom they are passed to, then the call is referred (SIP REFER) and the session ends as
 * `transferred`. The service ends the call on a REFER, so the sideband's close is expected, not a drop.
 */
export function transfers(opts: TransferOptions): SidebandExtension {
  return (ctx) => {
    if (ctx.attach.transport !== 'sip') return;
    ctx.builtin(TRANSFER_TOOL, async (call) => {
      const agent = ctx.prepared.agent;
      const parsed = argsSchema.safeParse(parseJson(call.arguments));
      const target = parsed.success ? agent.transferTargets.find((t) => t.name === parsed.data.target) : undefined;
      if (!target) {
        const names = agent.transferTargets.map((t) => t.name).join(', ');
        return { output: `There is no transfer target by that name. The targets are: ${names}.`, isError: true };
      }
      return {
        output: transferOutput(target.name),
        after: () => {
          const said = ctx.gate.request({ kind: 'transfer', response: { tool_choice: 'none' } });
          void said.outcome.then(async (outcome) => {
            if (outcome === 'closed') return;
            ctx.expectCallEnd(true);
            try {
              await opts.refer(ctx.attach.callId, target.sipUri);
            } catch (err) {
              ctx.expectCallEnd(false);
              ctx.log(`session ${ctx.sessionId}: transfer to ${target.name} failed: ${(err as Error).message}`);
              opts.onTransfer?.({ agentId: agent.id, target: target.name, outcome: 'failed' });
              ctx.gate.request({
                kind: 'transfer-failed',
                response: {
                  instructions: `The transfer to ${target.name} did not go through. Apologise in one sentence and offer to keep helping.`,
                  tool_choice: 'none',
                },
              });
              return;
            }
            ctx.log(`session ${ctx.sessionId}: transferred to ${target.name}`);
            opts.onTransfer?.({ agentId: agent.id, target: target.name, outcome: 'transferred' });
            ctx.stop('transferred');
            await opts
              .report(ctx.sessionId, {
                type: 'ended',
                workerId: opts.workerId,
                reason: `transferred to ${target.name}`,
                outcome: 'transferred',
              })
              .catch((err: unknown) =>
                ctx.log(`session ${ctx.sessionId}: reporting the transfer failed: ${(err as Error).message}`),
              );
          });
        },
      };
    });
  };
}
