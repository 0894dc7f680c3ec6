import { WebPubSubClient } from '@azure/web-pubsub-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import type { SessionEvent } from '../../shared/events/types';
import { waitUntil } from '../lifecycle/helpers';
import { webUser } from '../security/attackers';

/** Cost, the operator's API and managed agents, end to end through the local stack (WebRTC test peers). */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ ports: 'free', env: { WORKER_REPLICAS: '1' } });
}, 120_000);
afterAll(async () => stack?.stop());

const api = () => stack.url('functions');
const asUser = (userId: string) => ({ 'x-user-id': userId });

/** The page's live updates: GET /api/negotiate as the session's owner, then Web PubSub. */
async function pushEvents(userId: string, sessionId: string) {
  const events: SessionEvent[] = [];
  const client = new WebPubSubClient({
    getClientAccessUrl: async () => {
      const res = await fetch(`${api()}/negotiate?sessionId=${sessionId}`, { headers: asUser(userId) });
      return ((await res.json()) as { url: string }).url;
    },
  });
  client.on('group-message', (e) => events.push(e.message.data as SessionEvent));
  await client.start();
  return { events, stop: () => client.stop() };
}

const sessionOf = async (userId: string, sessionId: string) =>
  (await (await fetch(`${api()}/sessions/${sessionId}`, { headers: asUser(userId) })).json()) as Record<string, any>;

describe('cost per call', () => {
  it('pushes the running cost to the page and stores it on the session', { timeout: 90_000 }, async () => {
    const maya = await webUser(stack, 'maya');
    const push = await pushEvents('maya', maya.sessionId);
    await maya.turn('where is my order 1234');
    const cost = await waitUntil('a priced cost event', async () =>
      push.events.filter((e) => e.type === 'cost').find((e) => e.type === 'cost' && (e.usd ?? 0) > 0),
    );
    expect(cost).toMatchObject({ currency: 'USD', alert: false });
    await maya.hangUp();
    push.stop();
    // The worker writes the last usage when it lets the call go; the emulator bills text and audio tokens.
    const last = push.events.filter((e): e is Extract<SessionEvent, { type: 'cost' }> => e.type === 'cost').at(-1)!;
    const s = await waitUntil('the final cost on the session', async () => {
      const row = await sessionOf('maya', maya.sessionId);
      return row.cost?.usd === last.usd && row;
    });
    expect(s.cost).toMatchObject({ currency: 'USD', model: 'gpt-realtime', pricedAs: 'gpt-realtime' });
    expect(s.usage.inputTokens).toBe(last.inputTokens);
    expect(s.usage.outputTokens).toBe(last.outputTokens);
    expect(s.usage.text.input).toBeGreaterThan(0);
    expect(s.usage.audio.output).toBeGreaterThan(0);
  });
});
