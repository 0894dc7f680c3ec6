import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallCost } from '../../shared/cost/usage';
import { utteranceOf } from '../../shared/realtime/transcript';
import { createLiveProtocol } from '../../shared/realtime/live';
import { decodedList, protocolFor } from '../../shared/realtime/protocol';
import { attachBody, FakeRealtime, fakeCore, until } from '../worker/fakes';

let fake: FakeRealtime;
beforeAll(async () => {
  fake = await FakeRealtime.start();
});
afterAll(async () => fake?.stop());

const delta = (side: 'input' | 'output', text: string, start: number) => ({
  type: `session.${side}_transcript.delta`,
  event_id: `evt_${side}_${start}`,
  delta: text,
  start_ms: start,
  end_ms: start + 100,
});
const wrapped = (event: Record<string, unknown>, n: number) => ({
  type: 'response.event',
  event_id: `evt_r${n}`,
  delegation_id: 'del_1',
  event,
});
const functionCall = (callId: string, args: string) =>
  wrapped(
    {
      type: 'response.output_item.done',
      output_index: 0,
      item: { id: `fc_${callId}`, type: 'function_call', call_id: callId, name: 'get_order', arguments: args },
    },
    2,
  );

describe('Live sideband protocol', () => {
  it('groups transcript deltas into one item per turn, named by the session timeline', () => {
    const p = createLiveProtocol();
    const all = [
      delta('input', 'where is ', 100),
      delta('input', 'my order', 200),
      delta('output', 'Let me ', 900),
      delta('output', 'check.', 1000),
      delta('input', 'thanks', 3000),
      { type: 'session.closed', event_id: 'e', reason: 'remote_hangup', usage: { seconds: 4 } },
    ].flatMap((w) => decodedList(p.decode(w)));
    expect(all.map(utteranceOf).filter(Boolean)).toEqual([
      { itemId: 'live_in_100', role: 'user', text: 'where is my order' },
      { itemId: 'live_out_900', role: 'assistant', text: 'Let me check.' },
      { itemId: 'live_in_3000', role: 'user', text: 'thanks' },
    ]);
    // One speaker's utterances a moment apart are one item, with a space between; a long pause starts another.
    const gaps = createLiveProtocol();
    const said = [
      delta('output', 'One moment.', 0),
      delta('output', 'It is shipped.', 500),
      delta('output', 'Bye.', 5000),
    ]
      .flatMap((w) => decodedList(gaps.decode(w)))
      .concat(gaps.flush!());
    expect(said.map(utteranceOf).map((u) => u?.text)).toEqual(['One moment. It is shipped.', 'Bye.']);
    // A pause completes an item too (the worker's tick asks), and an id is never given twice.
    let t = 0;
    const timed = createLiveProtocol({ now: () => t });
    timed.decode(delta('output', 'One moment.', 0));
    t = 1000;
    expect(timed.flush!(1500)).toEqual([]);
    t = 2600;
    expect(timed.flush!(1500).map(utteranceOf)).toEqual([
      { itemId: 'live_out_0', role: 'assistant', text: 'One moment.' },
    ]);
    timed.decode(delta('output', 'It is 8 degrees.', 0));
    expect(timed.flush!().map(utteranceOf)).toEqual([
      { itemId: 'live_out_0_2', role: 'assistant', text: 'It is 8 degrees.' },
    ]);
    // A second decoder (another worker after a takeover) names the same items the same way.
    const again = createLiveProtocol();
    expect(decodedList(again.decode(delta('output', 'x', 900)))).toEqual([]);
    expect(again.flush!().map(utteranceOf)).toEqual([{ itemId: 'live_out_900', role: 'assistant', text: 'x' }]);
  });

  it('reads a delegated response as GA response and function-call events, and sends outputs as Live commands', () => {
    const p = protocolFor('live');
    expect(p).not.toBe(protocolFor('live')); // one decoder per session
    const types = [
      wrapped({ type: 'response.created', response: { id: 'resp_1', status: 'in_progress' } }, 1),
      functionCall('call_1', '{"orderId":"1234"}'),
      wrapped({ type: 'response.function_call_arguments.done', item_id: 'fc_call_1', arguments: '{}' }, 3),
      wrapped({ type: 'response.completed', response: { id: 'resp_1', status: 'completed' } }, 4),
      { type: 'session.started', event_id: 's', session: { id: 'live_1', instructions: 'x' } },
      { type: 'session.updated', event_id: 'u', session: { id: 'live_1' } },
    ].flatMap((w) => decodedList(p.decode(w)).map((e) => e.type));
    expect(types).toEqual([
      'response.created',
      'response.function_call_arguments.done',
      'unknown', // the nested arguments.done: the output item is the one call
      'response.done',
      'session.created',
      'unknown', // nothing for the session lock to guard on Live
    ]);
    expect(
      p.encode({
        type: 'conversation.item.create',
        event_id: 'e1',
        item: { id: 'fco_x', type: 'function_call_output', call_id: 'call_1', output: '{"status":"shipped"}' },
      }),
    ).toEqual({
      type: 'response.item.create',
      event_id: 'e1',
      item: { type: 'function_call_output', call_id: 'call_1', output: '{"status":"shipped"}' },
    });
    expect(p.encode({ type: 'response.create', event_id: 'wk1', response: { instructions: 'one moment' } })).toEqual({
      type: 'response.create',
      event_id: 'wk1',
    });
    // Fixed at start on Live: the worker's session.update, context items and cancels are not sent.
    expect(p.encode({ type: 'session.update', session: { type: 'realtime', instructions: 'x' } })).toBeUndefined();
    expect(p.encode({ type: 'response.cancel' })).toBeUndefined();
    expect(
      p.encode({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'earlier' }] },
      }),
    ).toBeUndefined();
  });
});

describe('Live usage', () => {
  it('feeds session.usage.updated (a running total of seconds) and delegated token usage into the call cost', () => {
    const p = createLiveProtocol();
    const cost = new CallCost('gpt-live-1', { 'gpt-live-1': { perMinute: 0.6 } });
    for (const wire of [
      { type: 'session.usage.updated', event_id: 'u1', usage: { seconds: 30 } },
      { type: 'session.usage.updated', event_id: 'u2', usage: { seconds: 90 } },
      wrapped({ type: 'response.completed', response: { id: 'r', usage: { input_tokens: 50, output_tokens: 7 } } }, 9),
    ])
      for (const e of decodedList(p.decode(wire))) cost.observe(e);
    expect(cost.usage.liveSeconds).toBe(90);
    expect(cost.snapshot().usd).toBeCloseTo(0.9, 6);
  });
});

describe('worker on a Live sideband', () => {
  it('runs a delegated tool once, answers it with response.item.create + response.create, keeps the transcript', async () => {
    const { core, gateway, appended, reports, events } = fakeCore(fake, { provider: 'live', tickMs: 50 });
    const call = 'live_sess_1';
    await core.attach(attachBody('s-live', call));
    await until(() => fake.openCount(call) === 1);
    fake.push(call, delta('input', 'where is order ', 100));
    fake.push(call, delta('input', '1234', 200));
    fake.push(call, {
      type: 'session.delegation.created',
      event_id: 'd',
      offset_ms: 300,
      delegation: { id: 'del_1', target: 'responses', type: 'delegation', response_id: 'resp_1' },
    });
    fake.push(call, wrapped({ type: 'response.created', response: { id: 'resp_1', status: 'in_progress' } }, 1));
    fake.push(call, functionCall('call_1', '{"orderId":"1234"}'));
    fake.push(call, functionCall('call_1', '{"orderId":"1234"}')); // delivered twice: still one run
    fake.push(call, wrapped({ type: 'response.completed', response: { id: 'resp_1', status: 'completed' } }, 4));
    await until(() => fake.sent(call, 'response.create').length === 1);
    expect(gateway.runs.map((r) => r.callId)).toEqual(['call_1']);
    const [output] = fake.sent(call, 'response.item.create');
    expect(output).toMatchObject({ item: { type: 'function_call_output', call_id: 'call_1' } });
    expect(String((output!.item as { output: string }).output)).toContain('shipped');
    // Nothing the Live sideband refuses went out: no session.update (fixed at start), no Realtime item events.
    expect(fake.sent(call).map((e) => e.type)).toEqual(['response.item.create', 'response.create']);

    fake.push(call, wrapped({ type: 'response.created', response: { id: 'resp_2', status: 'in_progress' } }, 5));
    fake.push(call, wrapped({ type: 'response.completed', response: { id: 'resp_2', status: 'completed' } }, 6));
    fake.push(call, delta('output', 'Order 1234 has shipped.', 1500));
    fake.push(call, { type: 'session.closed', event_id: 'c', reason: 'remote_hangup', usage: { seconds: 3 } });
    const items = () => appended.flatMap((a) => a.items);
    // The assistant's item completes with the session's close; the last batch is written when the worker lets go.
    await until(() => events.some((e) => e.type === 'transcript' && e.role === 'assistant'));
    await core.stop();
    expect(items().map((i) => [i.role, i.text])).toEqual([
      ['user', 'where is order 1234'],
      ['tool', expect.stringContaining('shipped')],
      ['assistant', 'Order 1234 has shipped.'],
    ]);
    expect(reports).toEqual([]);
  });
});
