import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryToolRunStore, type ToolRunStore } from '../../shared/stores/tool-runs';
import { attachBody, FakeRealtime, fakeCore, until } from './fakes';

let fake: FakeRealtime;
beforeAll(async () => {
  fake = await FakeRealtime.start();
});
afterAll(async () => fake?.stop());

const fnCall = (callId: string, name = 'get_order') => ({
  type: 'response.function_call_arguments.done',
  call_id: callId,
  name,
  arguments: '{"orderId":"1234"}',
  item_id: `item_${callId}`,
});

/** The memory store with every call recorded in order; `hold` keeps the delivered marks pending until released. */
function recordingStore() {
  const inner = createMemoryToolRunStore();
  const calls: string[] = [];
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  let hold = false;
  const store: ToolRunStore = {
    claim: (r) => (calls.push('claim'), inner.claim(r)),
    complete: (...a) => (calls.push('complete'), inner.complete(...a)),
    markDelivered: async (...a) => {
      calls.push('markDelivered');
      if (hold) await held;
      return inner.markDelivered(...a);
    },
    undelivered: (s) => (calls.push('undelivered'), inner.undelivered(s)),
    takeOver: (...a) => (calls.push('takeOver'), inner.takeOver(...a)),
  };
  return { store, calls, runs: inner.runs, hold: () => (hold = true), release: () => release() };
}

describe('worker tool path: storage only where exactly-once needs it', () => {
  it('a read-only tool runs with no tool-run storage at all, before or after', async () => {
    const rec = recordingStore();
    const f = fakeCore(fake, { toolRuns: rec.store });
    f.gateway.retrySafeTools.add('get_order');
    await f.core.attach(attachBody('s-ro', 'call-ro'));
    fake.push('call-ro', fnCall('fc_ro'));
    await until(() => fake.sent('call-ro', 'response.create').length === 1);
    expect(fake.sent('call-ro', 'conversation.item.create')[0]).toMatchObject({
      item: { call_id: 'fc_ro', output: expect.stringContaining('shipped') },
    });
    expect(f.gateway.runs).toHaveLength(1);
    // The output's send callback has run by the time the server read it: a write would have been issued.
    expect(rec.calls).toEqual([]);
    // The same call id delivered again still runs once.
    fake.push('call-ro', fnCall('fc_ro'));
    fake.push('call-ro', fnCall('fc_ro2'));
    await until(() => fake.sent('call-ro', 'conversation.item.create').length === 2);
    expect(f.gateway.runs.map((r) => r.callId)).toEqual(['fc_ro', 'fc_ro2']);
    expect(rec.calls).toEqual([]);
    await f.core.stop();
  });

  it('a tool with side effects is claimed before it runs; its output reaches the model before anything else is written', async () => {
    const rec = recordingStore();
    rec.hold();
    const f = fakeCore(fake, { toolRuns: rec.store });
    let callsWhenToolRan: string[] = [];
    const run = f.gateway.run.bind(f.gateway);
    f.gateway.run = async (a, call) => ((callsWhenToolRan = [...rec.calls]), run(a, call));
    await f.core.attach(attachBody('s-se', 'call-se'));
    fake.push('call-se', fnCall('fc_se', 'open_ticket'));
    await until(() => fake.sent('call-se', 'response.create').length === 1);
    expect(callsWhenToolRan).toEqual(['claim']);
    // The delivered mark is still pending (held): the model got its output and its response.create anyway.
    expect(rec.calls).toEqual(['claim', 'markDelivered']);
    expect(rec.runs.get('s-se\u0000fc_se')).toMatchObject({ status: 'running' });
    rec.release();
    // One write after the send records both the output and its delivery.
    await until(() => rec.runs.get('s-se\u0000fc_se')?.status === 'delivered');
    expect(rec.runs.get('s-se\u0000fc_se')).toMatchObject({ output: expect.stringContaining('shipped') });
    expect(rec.calls).toEqual(['claim', 'markDelivered']);
    await f.core.stop();
  });

  it('a read-only output the socket could not take is stored, and the next worker delivers it without a rerun', async () => {
    const a = fakeCore(fake, { workerId: 'w-a' });
    a.gateway.retrySafeTools.add('get_order');
    let answer: () => void = () => {};
    const answered = new Promise<void>((r) => (answer = r));
    const run = a.gateway.run.bind(a.gateway);
    a.gateway.run = async (ag, call) => (await answered, run(ag, call));
    await a.core.attach(attachBody('s-park', 'call-park'));
    fake.push('call-park', fnCall('fc_park'));
    await until(() => a.gateway.runs.length === 0 && a.core.executor.inFlight === 1);
    a.drop.push('s-park');
    // The drain lets go of the session while the tool still runs; the tool answers only then.
    const drained = a.core.drain(20);
    await until(() => a.core.sessions.size === 0);
    answer();
    await drained;
    expect([...a.toolRuns.runs.values()]).toEqual([
      expect.objectContaining({ callId: 'fc_park', status: 'done', workerId: 'w-a', output: expect.any(String) }),
    ]);
    const b = fakeCore(fake, { workerId: 'w-b', toolRuns: a.toolRuns });
    await b.core.attach(attachBody('s-park', 'call-park', 1));
    await until(() =>
      fake
        .sent('call-park', 'conversation.item.create')
        .some((e) => (e.item as { call_id?: string }).call_id === 'fc_park'),
    );
    await until(async () => (await a.toolRuns.undelivered('s-park')).length === 0);
    expect(b.gateway.runs).toHaveLength(0);
    await b.core.stop();
  });
});
