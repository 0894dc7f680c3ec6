import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFunctionsBundle } from '../../emulators/durable-host/index';
import { startDeployment, type Deployment } from '../../dev/durable-scenario';

/**
 * The Function app as deployed (the esbuild bundle), loaded the way the Functions Node worker loads it and
 * run on a simulated task hub: replay schema V3, FIFO queues per instance, entity batches, a virtual clock.
 */
let entry: string;
let d: Deployment;
beforeAll(async () => {
  entry = buildFunctionsBundle();
  d = await startDeployment({ entry, seed: 7, log: process.env.SIM_LOG ? (l) => console.log(l) : undefined });
}, 300_000);
afterAll(async () => d?.close());

describe('the built Function app on a simulated Durable host', () => {
  it('registers the lifecycle functions with the bindings the host needs', () => {
    const byName = new Map(d.host.registrations.map((r) => [r.name, r]));
    const trigger = (n: string) =>
      Object.values(byName.get(n)?.bindings ?? {}).find((b) => /trigger$/i.test(b.type))?.type;
    expect(['session', 'worker', 'fleet'].map(trigger)).toEqual(['entityTrigger', 'entityTrigger', 'entityTrigger']);
    expect(['sessionOperation', 'sessionSupervisor', 'workerSupervisor'].map(trigger)).toEqual([
      'orchestrationTrigger',
      'orchestrationTrigger',
      'orchestrationTrigger',
    ]);
    for (const a of ['lifecycleAttach', 'lifecycleHangup', 'lifecycleDetach', 'lifecycleEmit', 'lifecycleWatch'])
      expect(trigger(a)).toBe('activityTrigger');
    const hasClient = (n: string) => Object.values(byName.get(n)!.bindings).some((b) => b.type === 'durableClient');
    expect(
      ['lifecycleAttach', 'lifecycleWatch', 'internal-heartbeats', 'internal-scale', 'sessions-start'].every(hasClient),
    ).toBe(true);
    expect(hasClient('lifecycleEmit')).toBe(false);
  });

  it('runs a whole WebRTC session: requested → live on a worker, heartbeats per worker, ended', async () => {
    const id = await d.startSession();
    await d.advance(2000);
    await d.registerCall(id, 'rtc_sim_1');
    await d.advance(3000);
    expect(d.record(id)).toMatchObject({ state: 'live' });
    const holder = d.record(id)!.workerId!;
    await d.advance(60_000);
    expect(d.record(id)).toMatchObject({ state: 'live', workerId: holder });
    expect(await d.scale()).toEqual({ liveSessions: 1, workers: 1 });
    await d.report(id, holder, 'ended', 'caller hung up');
    await d.advance(5000);
    expect(d.record(id)).toMatchObject({ state: 'ended' });
    expect(d.host.api.calls.startNew).toBeGreaterThan(0);
  }, 60_000);
});
