import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctionsBundle } from '../../emulators/durable-host/index';
import { startDeployment, type Deployment } from '../../dev/durable-scenario';
import { createHistoryStore } from '../../shared/memory/history-store';

/**
 * The Durable lifecycle of the built app on the simulated host: liveness per worker, one watchdog per session
 * across resumes, purge, and a property test under injected activity failures, redeliveries and reordering.
 */
let d: Deployment;
let n = 0;
const call = () => `rtc_prop_${++n}`;
beforeAll(async () => {
  d = await startDeployment({ entry: buildFunctionsBundle(), seed: 11, workers: 3 });
}, 300_000);
afterAll(async () => d?.close());

const running = (id: string) => ['Running', 'Pending'].includes(d.host.hub.orchestrations.get(id)?.status ?? '');
const state = (id: string) => d.record(id)?.state;

async function liveSession(): Promise<{ id: string; holder: string }> {
  const id = await d.startSession();
  await d.advance(1000);
  await d.registerCall(id, call());
  for (let i = 0; i < 30 && state(id) !== 'live'; i++) await d.advance(1000);
  expect(state(id)).toBe('live');
  return { id, holder: d.record(id)!.workerId! };
}

describe('Durable lifecycle on the simulated host', () => {
  it('a silent worker becomes workerLost for exactly the sessions it held; heartbeats cost one signal per worker', async () => {
    d.host.hub.configure({ seed: 3, faults: {} });
    const sessions = [await liveSession(), await liveSession(), await liveSession(), await liveSession()];
    const victim = sessions[0]!.holder;
    const mine = sessions.filter((s) => s.holder === victim).map((s) => s.id);
    const others = sessions.filter((s) => s.holder !== victim);
    const signalsBefore = d.host.api.calls.signalEntity ?? 0;
    const beatsBefore = d.host.hub.counters.entityOperations;
    await d.advance(30_000);
    // Beats: one signal per worker tick, not per session (4 sessions, ≤3 workers, 6 ticks each in 30 s).
    expect((d.host.api.calls.signalEntity ?? 0) - signalsBefore).toBeLessThanOrEqual(3 * 7);
    expect(d.host.hub.counters.entityOperations - beatsBefore).toBeLessThan(60);
    d.kill(victim);
    await d.advance(40_000);
    for (const id of mine)
      expect(d.record(id)).toMatchObject({ state: 'live', reattachAttempts: 1, lostWorkers: [victim] });
    for (const s of others)
      expect(d.record(s.id)).toMatchObject({ state: 'live', workerId: s.holder, reattachAttempts: 0 });
    d.spawn(victim.replace('w', 'x'));
    for (const s of sessions) await d.report(s.id, d.record(s.id)!.workerId!, 'ended', 'done');
    await d.advance(10_000);
    expect(sessions.map((s) => state(s.id))).toEqual(['ended', 'ended', 'ended', 'ended']);
  }, 120_000);

  it('a resumed session keeps exactly one supervisor, and the session goes live again', async () => {
    d.host.hub.configure({ seed: 5, faults: {} });
    const { id, holder } = await liveSession();
    await d.report(id, holder, 'ended', 'network dropped');
    await d.advance(5000);
    expect(state(id)).toBe('ended');
    expect(running(`supervisor-${id}`)).toBe(true); // it keeps the ended session for the resume window
    const r = await d.host.http('sessions-start', {
      method: 'POST',
      path: 'sessions',
      headers: { 'x-user-id': 'u1' },
      body: { agentId: 'customer-support', resumeSessionId: id },
    });
    expect(r.status).toBeLessThan(300);
    await d.advance(2000);
    expect(state(id)).toBe('requested');
    await d.registerCall(id, call());
    await d.advance(5000);
    expect(d.record(id)).toMatchObject({ state: 'live', resumes: 1 });
    // Past the old window the same supervisor sees an active session and goes on; it did not stop.
    await d.advance(200_000);
    expect(running(`supervisor-${id}`)).toBe(true);
    expect([...d.host.hub.orchestrations.keys()].filter((k) => k.startsWith(`supervisor-${id}`))).toHaveLength(1);
    await d.report(id, d.record(id)!.workerId!, 'ended', 'done');
    await d.advance(5000);
    expect(state(id)).toBe('ended');
  }, 120_000);

  it('an ended session is purged: its entity after the resume window, its instances by forget-me', async () => {
    d.host.hub.configure({ seed: 9, faults: {} });
    const { id, holder } = await liveSession();
    await d.report(id, holder, 'ended', 'done');
    await d.advance(200_000); // resume window (120 s) + grace
    expect(d.host.hub.entities.get(`@session@${id}`)?.exists ?? false).toBe(false);
    expect(d.host.hub.orchestrations.get(`supervisor-${id}`)?.status).toBe('Completed');
    const before = [...d.host.hub.orchestrations.keys()].filter((k) => k.includes(id));
    expect(before.length).toBeGreaterThan(1);
    // What the worker wrote while the call was live: the history lists the caller's sessions from it.
    await createHistoryStore(d.env).append('user:u1', [
      { itemId: `item_${id}`, sessionId: id, agentId: 'customer-support', role: 'user', text: 'hi', at: Date.now() },
    ]);
    const r = await d.host.http('history-delete', {
      method: 'DELETE',
      path: 'users/me/history',
      headers: { 'x-user-id': 'u1' },
    });
    expect(r.status).toBe(200);
    expect([...d.host.hub.orchestrations.keys()].filter((k) => k.includes(id))).toEqual([]);
  }, 120_000);

  it('property: under activity failures, redeliveries and reordering every active session stays watched and ends', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.record({
          activityFailure: fc.constantFrom(0, 0.1, 0.3),
          activityRedelivery: fc.constantFrom(0, 0.1, 0.3),
          episodeRedelivery: fc.constantFrom(0, 0.1, 0.2),
        }),
        fc.boolean(),
        async (seed, faults, killHolder) => {
          d.host.hub.configure({ seed, faults });
          const spare = `s${++run}`;
          d.spawn(spare);
          const id = await d.startSession();
          await d.advance(1000);
          await d.registerCall(id, call());
          for (let t = 0; t < 120 && state(id) !== 'live' && state(id) !== 'ended' && state(id) !== 'failed'; t++)
            await d.advance(1000);
          const watched = () => {
            const s = state(id);
            if (s !== 'attaching' && s !== 'live') return true;
            return running(`supervisor-${id}`);
          };
          expect(watched()).toBe(true);
          if (killHolder && state(id) === 'live') d.kill(d.record(id)!.workerId!);
          for (let t = 0; t < 12; t++) {
            await d.advance(5000);
            expect(watched()).toBe(true);
          }
          const holder = d.record(id)?.workerId;
          if (holder) await d.report(id, holder, 'ended', 'caller hung up');
          else await d.report(id, spare, 'failed', 'test over');
          for (let t = 0; t < 60 && !['ended', 'failed'].includes(state(id) ?? ''); t++) await d.advance(5000);
          expect(['ended', 'failed']).toContain(state(id));
        },
      ),
      { numRuns: 6, seed: 42 },
    );
    d.host.hub.configure({ faults: {} });
  }, 300_000);
});
