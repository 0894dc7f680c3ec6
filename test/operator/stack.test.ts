import { WebPubSubClient } from '@azure/web-pubsub-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import type { SessionSummary } from '../../emulators/realtime/index';
import type { SessionEvent } from '../../shared/events/types';
import { createOperatorAudit } from '../../shared/stores/operator-audit';
import { emulatorSession, waitUntil } from '../lifecycle/helpers';
import { webUser } from '../security/attackers';

/** Cost, the operator's API and managed agents, end to end through the local stack (WebRTC test peers). */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ ports: 'free', env: { WORKER_REPLICAS: '1', DEV_OPERATOR_USERS: 'ops' } });
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

const operator = (path: string, init: RequestInit & { as?: string } = {}) =>
  fetch(`${api()}/operator/${path}`, { ...init, headers: { ...asUser(init.as ?? 'ops'), ...init.headers } });
const auditToday = () =>
  createOperatorAudit({ STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING }, { log: () => {} }).list(
    new Date().toISOString().slice(0, 10),
  );

describe('the operator API', () => {
  it('refuses a caller without the operator role with a JSON 403, and audits the attempt', async () => {
    const res = await operator('sessions', { as: 'maya' });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      error: { code: 'not_an_operator', message: 'this needs the Voice.Operator app role' },
    });
    const hang = await operator(`sessions/${crypto.randomUUID()}/hangup`, { method: 'POST', as: 'maya' });
    expect(hang.status).toBe(403);
    const denied = (await auditToday()).filter((e) => e.operator === 'maya');
    expect(denied.map((e) => `${e.action}:${e.outcome}`).sort()).toEqual([
      'sessions.hangup:denied',
      'sessions.list:denied',
    ]);
  });

  it('lists a live call with its agent, transport, start and cost, and hangs it up', { timeout: 90_000 }, async () => {
    const jonas = await webUser(stack, 'jonas');
    await jonas.turn('where is my order 1001');
    const listed = await waitUntil('the live session listed', async () => {
      const body = (await (await operator('sessions')).json()) as { sessions: Record<string, any>[] };
      return body.sessions.find((s) => s.sessionId === jonas.sessionId && s.state === 'live');
    });
    expect(listed).toMatchObject({ agentId: 'customer-support', transport: 'webrtc', caller: 'user' });
    expect(listed.since).toBeGreaterThan(Date.now() - 120_000);
    expect(listed).not.toHaveProperty('userId');
    expect(JSON.stringify(listed)).not.toContain('jonas');

    const res = await operator(`sessions/${jonas.sessionId}/hangup`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ sessionId: jonas.sessionId, state: 'ending' });
    // The lifecycle hangs the call up at the service; the session ends with the operator's reason.
    await waitUntil(
      'the call hung up at the service',
      async () => ((await emulatorSession(stack, jonas.callId)) as SessionSummary | undefined)?.ended,
    );
    const ended = await waitUntil('the session ended', async () => {
      const s = await sessionOf('jonas', jonas.sessionId);
      return s.state === 'ended' && s;
    });
    expect(ended.reason).toBe('operator hang-up');
    const list = (await (await operator('sessions')).json()) as { sessions: { sessionId: string }[] };
    expect(list.sessions.map((s) => s.sessionId)).not.toContain(jonas.sessionId);

    const again = await operator(`sessions/${jonas.sessionId}/hangup`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('session_not_active');
    for (const id of [crypto.randomUUID(), 'not-a-session']) {
      const missing = await operator(`sessions/${id}/hangup`, { method: 'POST' });
      expect(missing.status).toBe(404);
      expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
    const mine = (await auditToday()).filter((e) => e.operator === 'ops' && e.action === 'sessions.hangup');
    expect(mine.map((e) => e.outcome).sort()).toEqual(['conflict', 'not_found', 'not_found', 'ok']);
    expect(mine.find((e) => e.outcome === 'ok')?.target).toBe(jonas.sessionId);
  });
});
