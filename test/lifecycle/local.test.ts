import { describe, expect, it } from 'vitest';
import type { EffectDeps } from '../../shared/lifecycle/effects';
import { LocalLifecycle } from '../../shared/lifecycle/local';
import type { LifecycleOperation } from '../../shared/lifecycle/operations';
import { createMemoryLifecycleStore } from '../../shared/lifecycle/store';
import type { SupervisorTimeouts } from '../../shared/lifecycle/supervisor';

/** Long enough that the watchdog never interferes, even on a loaded machine; watchdog tests use `fast`. */
const timeouts: SupervisorTimeouts = {
  heartbeatTimeoutMs: 10_000,
  attachTimeoutMs: 20_000,
  idleTimeoutMs: 60_000,
  endingTimeoutMs: 30_000,
  missingGraceMs: 1000,
};
const fast: SupervisorTimeouts = { ...timeouts, heartbeatTimeoutMs: 200, attachTimeoutMs: 1000 };

function setup(
  attach: (attempt: number) => Promise<{ workerId: string }> = async () => ({ workerId: 'w1' }),
  t: SupervisorTimeouts = timeouts,
) {
  const store = createMemoryLifecycleStore();
  const calls: string[] = [];
  const logs: string[] = [];
  const effects: EffectDeps = {
    worker: {
      attach: async (req) => {
        calls.push(`attach:${req.attempt}`);
        const r = await attach(req.attempt);
        return { ...r, sessionId: req.sessionId, already: false };
      },
      detach: async (id) => void calls.push(`detach:${id}`),
    },
    provider: { hangupCall: async (id) => void calls.push(`hangup:${id}`) },
    publisher: { publish: async (e) => void calls.push(`emit:${(e as { state: string }).state}`) },
    log: () => {},
    now: Date.now,
    attachBudgetMs: 300,
    sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))),
  };
  const lc = new LocalLifecycle({
    store,
    effects,
    maxReattachAttempts: 2,
    timeouts: t,
    watchdogTickMs: 20,
    log: (l) => logs.push(l),
  });
  return { lc, store, calls, logs };
}

const until = async (fn: () => boolean | Promise<boolean>, ms = 3000) => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not met');
};
const req = (): LifecycleOperation => ({
  type: 'requested',
  agentId: 'a',
  userId: 'u',
  transport: 'webrtc',
  at: Date.now(),
});

describe('local lifecycle', () => {
  it('a whole WebRTC session costs 5 storage writes; heartbeats cost none', async () => {
    const { lc, store, calls } = setup();
    await lc.start();
    await lc.signal('s1', req());
    await lc.signal('s1', { type: 'callRegistered', callId: 'c1', at: Date.now() });
    await until(async () => (await lc.get('s1'))?.state === 'live');
    for (let i = 0; i < 20; i++) expect(await lc.heartbeats('w1', ['s1'], Date.now())).toEqual([]);
    expect(store.reads).toBe(0); // inserting a new session needs no read; everything after is cached
    await lc.signal('s1', { type: 'ended', reason: 'bye', at: Date.now() });
    await until(async () => (await lc.get('s1'))?.state === 'ended');
    expect(store.writes).toBe(5); // requested, attaching, live, ending, ended
    expect(calls).toEqual([
      'emit:requested',
      'emit:attaching',
      'attach:0',
      'emit:live',
      'emit:ending',
      'hangup:c1',
      'detach:s1',
      'emit:ended',
    ]);
    await lc.stop();
  });

  it('applies one operation at a time per session, in arrival order, even when fired concurrently', async () => {
    const { lc, store } = setup(() => new Promise(() => {})); // attach never returns: stay in attaching
    await lc.start();
    const ops = [
      lc.apply('s2', req()),
      lc.apply('s2', { type: 'callRegistered', callId: 'c', at: 2 }),
      lc.apply('s2', { type: 'ended', reason: 'x', at: 3 }),
    ];
    const results = await Promise.all(ops);
    expect(results.map((r) => r.rejected)).toEqual([undefined, undefined, undefined]);
    expect(store.rows.get('s2')!.record.path).toEqual(['requested', 'attaching', 'ending']);
    await lc.stop(50); // the attach never returns; don't wait for it
  });

  it('an invalid transition is rejected and logged, and neither storage nor memory changes', async () => {
    const { lc, store, logs } = setup();
    await lc.start();
    await lc.signal('s3', req());
    const before = structuredClone(store.rows.get('s3'));
    const r = await lc.apply('s3', { type: 'attached', workerId: 'w9', at: 5 });
    expect(r.rejected?.reason).toBe('attached: not valid in requested');
    expect(store.rows.get('s3')).toEqual(before);
    expect(await lc.get('s3')).toEqual(before!.record);
    expect(logs.some((l) => l.includes('rejected attached'))).toBe(true);
    await lc.stop();
  });

  it('a `requested` for an existing (ended) session conflicts on insert, re-reads and resumes it', async () => {
    const { lc, store } = setup();
    await lc.start();
    await lc.signal('s7', req());
    await lc.signal('s7', { type: 'ended', reason: 'dropped', at: Date.now() });
    const fresh = new LocalLifecycle({
      store,
      effects: (lc as unknown as { opts: { effects: EffectDeps } }).opts.effects,
      maxReattachAttempts: 2,
      timeouts,
    });
    const r = await fresh.apply('s7', req());
    expect(r.record).toMatchObject({ state: 'requested', resumes: 1, path: ['requested', 'ended', 'requested'] });
    expect(fresh.stats.conflicts).toBe(1);
    await lc.stop();
  });

  it('a restarted runner re-arms the watchdog from storage and gives live sessions one timeout of grace', async () => {
    const { lc, store, calls } = setup();
    await lc.start();
    await lc.signal('s8', req());
    await lc.signal('s8', { type: 'callRegistered', callId: 'c8', at: Date.now() });
    await until(async () => (await lc.get('s8'))?.state === 'live');
    await lc.stop();
    const grace = { ...fast, heartbeatTimeoutMs: 1500 };
    await new Promise((r) => setTimeout(r, 1700)); // longer than the heartbeat timeout, with the runner down
    const restarted = new LocalLifecycle({
      store,
      effects: (lc as unknown as { opts: { effects: EffectDeps } }).opts.effects,
      maxReattachAttempts: 2,
      timeouts: grace,
      watchdogTickMs: 20,
    });
    await restarted.start();
    await new Promise((r) => setTimeout(r, 300)); // well inside the grace: nothing happens
    expect((await restarted.get('s8'))?.workerId).toBe('w1');
    // Without heartbeats the re-armed watchdog does act once the grace is over.
    await until(async () => (await restarted.get('s8'))?.reattachAttempts === 1, 5000);
    expect(calls.filter((c) => c.startsWith('attach:'))).toEqual(['attach:0', 'attach:1']);
    await restarted.stop();
  });

  it('re-reads and decides again when the row changed underneath (ETag conflict)', async () => {
    const { lc, store } = setup();
    await lc.start();
    await lc.signal('s4', req());
    // Someone else ended the session behind this process's cached copy: the write conflicts, the re-read wins.
    const row = store.rows.get('s4')!;
    await store.save(
      { ...row.record, state: 'ended', path: [...row.record.path, 'ended'], version: row.record.version + 1 },
      row.etag,
    );
    const r = await lc.apply('s4', { type: 'callRegistered', callId: 'c', at: 9 });
    expect(r.rejected?.reason).toMatch(/already ended/);
    expect(lc.stats.conflicts).toBe(1);
    // A change that does not affect the decision: the operation is applied on top of it.
    await lc.signal('s5', req());
    const stale = store.rows.get('s5')!;
    await store.save({ ...stale.record, reason: 'touched' }, stale.etag);
    const ok = await lc.apply('s5', { type: 'ended', reason: 'bye', at: 10 });
    expect(ok.rejected).toBeUndefined();
    expect(lc.stats.conflicts).toBe(2);
    expect(store.rows.get('s5')!.record).toMatchObject({ state: 'ended', reason: 'bye' });
    await lc.stop();
  });

  it('the watchdog re-attaches a session whose worker stopped heartbeating, then fails it when attempts run out', async () => {
    let n = 0;
    const { lc, calls } = setup(async () => {
      n++;
      if (n > 2) throw Object.assign(new Error('no replica'), { retryable: true });
      return { workerId: `w${n}` };
    }, fast);
    await lc.start();
    await lc.signal('s6', req());
    await lc.signal('s6', { type: 'callRegistered', callId: 'c6', at: Date.now() });
    await until(async () => (await lc.get('s6'))?.workerId === 'w1');
    // No heartbeats: after 200 ms the watchdog declares w1 lost and re-attaches (w2).
    await until(async () => (await lc.get('s6'))?.workerId === 'w2');
    expect(await lc.get('s6')).toMatchObject({ state: 'live', reattachAttempts: 1, lostWorkers: ['w1'] });
    // w2 is lost too, and no replica takes the call any more: bounded, then failed with a hang-up.
    await until(async () => (await lc.get('s6'))?.state === 'failed', 5000);
    expect(calls).toContain('hangup:c6');
    expect((await lc.get('s6'))?.reason).toMatch(/exhausted/);
    await lc.stop();
  });
});
