import { afterEach, describe, expect, it } from 'vitest';
import { FakeRealtime, attachBody, fakeCore, until } from '../worker/fakes';

/**
 * Found by the worker-kill chaos test: the user turn that led to a tool call sat in the worker's 250 ms
 * transcript batch while the tool ran, so a worker killed mid-tool lost it. The turn is now written before
 * the tool runs (alongside the claim).
 */
let fake: FakeRealtime | undefined;
afterEach(async () => fake?.stop());

describe('transcript durability around tool calls', () => {
  it('the user turn is stored before the tool starts running', async () => {
    fake = await FakeRealtime.start();
    // A tick far in the future: only the tool-call path can have written the turn.
    const { core, appended, gateway } = fakeCore(fake, { tickMs: 60_000 });
    gateway.delayMs = 200;
    let storedWhenToolStarted: string[] | undefined;
    const run = gateway.run.bind(gateway);
    gateway.run = async (a, call) => {
      storedWhenToolStarted = appended.flatMap((b) => b.items.map((i) => `${i.role}:${i.text}`));
      return run(a, call);
    };
    await core.attach(attachBody('s1', 'c1'));
    fake.push('c1', {
      type: 'conversation.item.added',
      item: {
        id: 'item_u1',
        type: 'message',
        role: 'user',
        content: [{ type: 'input_text', text: 'where is my order 1234' }],
      },
    });
    fake.push('c1', { type: 'response.created', response: { id: 'r1' } });
    fake.push('c1', {
      type: 'response.function_call_arguments.done',
      call_id: 'call_1',
      name: 'get_order',
      arguments: '{"orderId":"1234"}',
    });
    fake.push('c1', { type: 'response.done', response: { id: 'r1' } });
    await until(() => storedWhenToolStarted !== undefined);
    expect(storedWhenToolStarted).toEqual(['user:where is my order 1234']);
    await until(() => fake!.sent('c1', 'response.create').length === 1);
    await core.stop();
  });
});
