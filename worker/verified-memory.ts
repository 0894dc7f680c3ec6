import type { RealtimeClientEvent } from 'openai/resources/realtime/realtime';
import type { SessionCaller } from '../shared/mcp/identity';
import { partitionNeedsVerification } from '../shared/memory/types';
import type { SidebandDeps, SidebandExtension } from './sideband';

type Seed = NonNullable<SidebandDeps['seed']>;

/**
 * Memory only for verified callers. A signed-in user's memory is seeded at attach as before. A phone number's
 * memory is not: the SIP `From` is only the caller's claim. It is seeded the moment the built-in server's
 * verification grant makes the session's caller verified (its items go in at the conversation's root).
 */
export function verifiedMemory(opts: { caller?: SessionCaller; partition: string; seed?: Seed }): {
  seed?: Seed;
  extension?: SidebandExtension;
} {
  const { caller, partition, seed } = opts;
  if (!seed || !partitionNeedsVerification(partition)) return { seed };
  return {
    seed: async () => [],
    extension: (ctx) => {
      if (!caller || ctx.attach.attempt !== 0) return;
      caller.onVerified = () => {
        seed({ sessionId: ctx.sessionId, agentId: ctx.attach.agentId, partition, resume: ctx.prepared.resume })
          .then((events) => {
            for (const e of events) ctx.send(e as RealtimeClientEvent);
            ctx.log(`session ${ctx.sessionId}: caller verified, ${events.length} memory item(s) seeded`);
          })
          .catch((err) => ctx.log(`memory after verification skipped for ${ctx.sessionId}: ${(err as Error).message}`));
      };
      return () => {
        caller.onVerified = undefined;
      };
    },
  };
}
