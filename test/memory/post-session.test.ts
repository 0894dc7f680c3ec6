import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../../shared/events/types';
import { withSessionBookkeeping } from '../../shared/memory/post-session';
import type { SessionEndPatch } from '../../shared/memory/summarize';

const state = (state: 'live' | 'attaching' | 'ended' | 'failed', reason?: string): SessionEvent => ({
  type: 'state',
  sessionId: 's1',
  state,
  at: 1000,
  ...(reason ? { reason } : {}),
});

describe('withSessionBookkeeping', () => {
  it('passes every event on, records timings, and summarizes with the end fields once ended', async () => {
    const published: SessionEvent[] = [];
    const updates: unknown[] = [];
    const summarized: [string, SessionEndPatch][] = [];
    const p = withSessionBookkeeping(
      { publish: async (e) => void published.push(e) },
      {
        summarize: async (id, end) => (summarized.push([id, end]), { status: 'empty' }),
        sessions: { update: async (_id, patch) => void updates.push(patch) },
        awaitWork: true,
      },
    );
    await p.publish(state('attaching'));
    await p.publish(state('live'));
    expect(updates).toEqual([{ state: 'live', liveAt: 1000 }]);
    expect(summarized).toEqual([]);
    await p.publish(state('ended', 'user hung up'));
    expect(summarized).toEqual([['s1', { state: 'ended', endedAt: 1000, endReason: 'user hung up' }]]);
    await p.publish(state('failed', 'attach refused'));
    expect(updates.at(-1)).toEqual({ state: 'failed', endedAt: 1000, endReason: 'attach refused' });
    expect(published.map((e) => (e.type === 'state' ? e.state : e.type))).toEqual([
      'attaching',
      'live',
      'ended',
      'failed',
    ]);
  });

  it('leaves state and timings to the lifecycle when it mirrors them itself (local lifecycle): only the summary', async () => {
    const updates: unknown[] = [];
    const summarized: [string, SessionEndPatch][] = [];
    const p = withSessionBookkeeping(
      { publish: async () => {} },
      {
        summarize: async (id, end) => (summarized.push([id, end]), { status: 'empty' }),
        sessions: { update: async (_id, patch) => void updates.push(patch) },
        awaitWork: true,
        mirror: false,
      },
    );
    await p.publish(state('live'));
    await p.publish(state('failed', 'attach refused'));
    await p.publish(state('ended', 'user hung up'));
    expect(updates).toEqual([]);
    expect(summarized).toEqual([['s1', {}]]);
  });

  it('logs a failing summary instead of failing the lifecycle, and does not wait when told not to', async () => {
    const lines: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const p = withSessionBookkeeping(
      { publish: async () => {} },
      {
        summarize: async () => {
          await gate;
          throw new Error('text model down');
        },
        sessions: { update: async () => {} },
        awaitWork: false,
        log: (l) => lines.push(l),
      },
    );
    await p.publish(state('ended')); // returns while the summary is still pending
    expect(lines).toEqual([]);
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(lines).toEqual(['session s1 bookkeeping (ended) failed: text model down']);
  });
});
