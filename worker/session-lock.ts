import type { SessionConfig } from '../shared/providers/types';
import type { WorkerReport } from '../shared/worker-client/api';
import type { SidebandExtension } from './sideband';

/** The parts of a session that make it the agent's: a page may not replace them. */
export type GuardedField = 'instructions' | 'tools' | 'tool_choice' | 'voice' | 'turn_detection';

export interface SessionLockOptions {
  workerId: string;
  /** Changes restored before the page is hung up (the next one ends the call). */
  maxRestores?: number;
  report(sessionId: string, report: WorkerReport): Promise<void>;
  /** One per foreign change: restored, or the call hung up. */
  onOverride?(e: { agentId: string; fields: GuardedField[]; outcome: 'restored' | 'hung_up' }): void;
  log(line: string): void;
}

type Json = Record<string, unknown>;

/** Every key `expected` sets has the same value in `actual` (the service adds defaults we did not set). */
function covers(expected: unknown, actual: unknown): boolean {
  if (expected === null || typeof expected !== 'object') return expected === actual;
  if (actual === null || typeof actual !== 'object') return false;
  if (Array.isArray(expected))
    return Array.isArray(actual) && expected.length === actual.length && expected.every((e, i) => covers(e, actual[i]));
  return Object.entries(expected as Json).every(([k, v]) => v === undefined || covers(v, (actual as Json)[k]));
}

const guarded = (s: Json) => {
  const audio = (s.audio ?? {}) as { input?: Json; output?: Json };
  return {
    instructions: s.instructions,
    tools: s.tools,
    tool_choice: s.tool_choice,
    voice: audio.output?.voice,
    turn_detection: audio.input?.turn_detection,
  } satisfies Record<GuardedField, unknown>;
};

/** Which guarded fields of the session the service reports differ from the agent's. */
export function foreignChanges(expected: SessionConfig, reported: unknown): GuardedField[] {
  const want = guarded(expected as unknown as Json);
  const have = guarded((reported ?? {}) as Json);
  return (Object.keys(want) as GuardedField[]).filter((f) => want[f] !== undefined && !covers(want[f], have[f]));
}

/**
 * The session stays the agent's. The service lets the page send `session.update` on its data channel, which can
 * replace what the mint fixed; every change shows up on the sideband as `session.updated`. When a guarded field
 * no longer matches the agent, the worker puts the agent's back at once (one round trip), logs it and counts it;
 * a page that keeps trying is hung up (the lifecycle ends the call).
 */
export function sessionLock(opts: SessionLockOptions): SidebandExtension {
  const maxRestores = opts.maxRestores ?? 2;
  return (ctx) => {
    let restores = 0;
    let done = false;
    // Read at each check: after a handoff the session is the new agent's.
    const restoreOf = (expected: SessionConfig) => {
      const audio = (expected.audio ?? {}) as { input?: Json; output?: Json };
      return {
        type: 'session.update',
        session: {
          type: 'realtime',
          instructions: expected.instructions,
          tools: expected.tools,
          tool_choice: expected.tool_choice,
          audio: { input: { turn_detection: audio.input?.turn_detection }, output: { voice: audio.output?.voice } },
        },
      } as const;
    };
    return ctx.events.on('session.updated', (e) => {
      if (done) return;
      const expected = ctx.prepared.session;
      const fields = foreignChanges(expected, e.session);
      if (!fields.length) return;
      if (restores >= maxRestores) {
        done = true;
        opts.log(`session ${ctx.sessionId}: ${fields.join(', ')} changed again after ${restores} restores; hanging up`);
        opts.onOverride?.({ agentId: ctx.attach.agentId, fields, outcome: 'hung_up' });
        void opts
          .report(ctx.sessionId, {
            type: 'failed',
            workerId: opts.workerId,
            reason: 'the page kept changing the agent’s session settings',
          })
          .catch((err) =>
            opts.log(`session ${ctx.sessionId}: reporting the hang-up failed: ${(err as Error).message}`),
          );
        return;
      }
      restores++;
      opts.log(`session ${ctx.sessionId}: ${fields.join(', ')} changed by someone else; restoring the agent's`);
      opts.onOverride?.({ agentId: ctx.attach.agentId, fields, outcome: 'restored' });
      ctx.send(restoreOf(expected) as never);
    });
  };
}
