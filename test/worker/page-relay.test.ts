import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filtersDataChannel, pageRelay } from '../../worker/page-relay';
import { attachBody, FakeRealtime, fakeCore, until } from './fakes';

let fake: FakeRealtime;
beforeAll(async () => {
  fake = await FakeRealtime.start();
});
afterAll(async () => fake?.stop());

describe('page relay (a filtered WebRTC data channel)', () => {
  it('tells a filtered WebRTC URL apart', () => {
    expect(filtersDataChannel('https://r.openai.azure.com/openai/v1/realtime/calls?webrtcfilter=on')).toBe(true);
    expect(filtersDataChannel('https://api.openai.com/v1/realtime/calls')).toBe(false);
    expect(filtersDataChannel('not a url')).toBe(false);
  });

  it('relays what the filter withholds, reduced to ids and statuses, and never the session or tool events', async () => {
    const published: { sessionId: string; event: unknown }[] = [];
    const relay = pageRelay({
      publisher: { publish: async (e) => void (e.type === 'realtime' && published.push(e)) },
      enabled: (a) => a.transport === 'webrtc',
      now: () => 1,
      log: () => {},
    });
    const { core } = fakeCore(fake, { extensions: [relay] });
    await core.attach(attachBody('s-pr', 'call-pr'));
    await core.attach({ ...attachBody('s-sip', 'call-sip'), transport: 'sip' });
    for (const call of ['call-pr', 'call-sip']) {
      fake.push(call, { type: 'session.updated', session: { type: 'realtime', instructions: 'secret prompt' } });
      fake.push(call, { type: 'response.created', response: { id: 'r1', metadata: null } });
      fake.push(call, {
        type: 'response.output_item.done',
        item: { id: 'fc', type: 'function_call', name: 'get_order', arguments: '{"orderId":"1"}' },
      });
      fake.push(call, { type: 'conversation.item.truncated', item_id: 'a1', content_index: 0, audio_end_ms: 900 });
      fake.push(call, {
        type: 'response.done',
        response: { id: 'r1', status: 'cancelled', output: [{ id: 'a1', type: 'message', content: [{ text: 'x' }] }] },
      });
    }
    await until(() => published.length === 3);
    await new Promise((r) => setTimeout(r, 50));
    expect(published.map((p) => p.sessionId)).toEqual(['s-pr', 's-pr', 's-pr']);
    expect(published.map((p) => p.event)).toEqual([
      { type: 'response.created' },
      { type: 'conversation.item.truncated', item_id: 'a1' },
      { type: 'response.done', response: { status: 'cancelled', output: [{ id: 'a1' }] } },
    ]);
    expect(JSON.stringify(published)).not.toMatch(/secret prompt|get_order|orderId/);
    await core.stop();
  });
});
