import { describe, expect, it } from 'vitest';
import type { SessionEvent } from '../events/types';
import { withSessionSummaries } from './post-session';

const state = (state: 'live' | 'ended'): SessionEvent => ({ type: 'state', sessionId: 's1', state, at: 1 });

describe('withSessionSummaries', () => {
  it('passes every event on and summarizes once the session is ended', async () => {
    const published: SessionEvent[] = [];
    const summarized: string[] = [];
    const p = withSessionSummaries({ publish: async (e) => void published.push(e) }, async (id) => (summarized.push(id), { status: 'empty' }), { awaitSummary: true });
    await p.publish(state('live'));
    expect(summarized).toEqual([]);
    await p.publish(state('ended'));
    expect(summarized).toEqual(['s1']);
    expect(published.map((e) => (e.type === 'state' ? e.state : e.type))).toEqual(['live', 'ended']);
  });

  it('logs a failing summary instead of failing the lifecycle, and does not wait when told not to', async () => {
    const lines: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const p = withSessionSummaries({ publish: async () => {} }, async () => {
      await gate;
      throw new Error('text model down');
    }, { awaitSummary: false, log: (l) => lines.push(l) });
    await p.publish(state('ended')); // returns while the summary is still pending
    expect(lines).toEqual([]);
    release();
    await new Promise((r) => setTimeout(r, 10));
    expect(lines).toEqual(['session s1 summary failed: text model down']);
  });
});
