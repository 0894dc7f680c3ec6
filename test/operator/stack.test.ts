import { WebPubSubClient } from '@azure/web-pubsub-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import type { SessionSummary } from '../../emulators/realtime/index';
import type { SessionEvent } from '../../shared/events/types';
import { createOperatorAudit } from '../../shared/stores/operator-audit';
import { emulatorSession, waitUntil } from '../lifecycle/helpers';
import { webUser } from '../security/attackers';
import { TestPeer } from '../emulator/webrtc-peer';
import { readFileSync } from 'node:fs';

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
      // Live, with the cost of the answered turn (the worker writes the row on the first billed response).
      return body.sessions.find((s) => s.sessionId === jonas.sessionId && s.state === 'live' && s.cost?.usd > 0);
    });
    expect(listed).toMatchObject({ agentId: 'customer-support', transport: 'webrtc', caller: 'user', agentVersion: 1 });
    expect(listed.cost).toMatchObject({ currency: 'USD', pricedAs: 'gpt-realtime' });
    expect(listed.usage.inputTokens).toBeGreaterThan(0);
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

const concierge = JSON.parse(readFileSync('agents/concierge.json', 'utf8')) as Record<string, unknown>;
const nightDesk = (instructions: string) => ({
  ...concierge,
  id: 'night-desk',
  displayName: 'Night desk',
  instructions,
  sip: { numbers: [] },
});
const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;
const V1 = 'You are the night desk, first edition. Keep answers short.';
const V2 = 'You are the night desk, second edition. Keep answers very short.';

describe('agents managed by operators', () => {
  it('refuses definitions the schema or the policy refuses, naming the field', async () => {
    const bad = [
      [{ ...nightDesk(V1), extra: 1 }, 400, /^extra: unknown field/],
      [{ ...nightDesk(V1), voice: 'robot' }, 400, /^voice:/],
      [
        { ...nightDesk(V1), mcpServers: [{ name: 'x', url: 'https://10.0.0.8/mcp', allowedTools: ['a'] }] },
        400,
        /^mcpServers\.0\.url: 10\.0\.0\.8 is a private or link-local address/,
      ],
      [
        {
          ...nightDesk(V1),
          mcpServers: [
            {
              name: 'x',
              url: 'https://tools.example.com/mcp',
              auth: { type: 'header', header: 'x-key', setting: 'WORKER_AUTH_SECRET' },
              allowedTools: ['a'],
            },
          ],
        },
        400,
        /^mcpServers\.0\.auth\.setting: an MCP_SECRET_\* setting/,
      ],
      [
        {
          ...nightDesk(V1),
          mcpServers: [
            {
              name: 'x',
              url: 'https://tools.example.com/mcp',
              auth: { type: 'managedIdentity', scope: 'https://graph.microsoft.com/.default' },
              allowedTools: ['a'],
            },
          ],
        },
        400,
        /^mcpServers\.0\.auth\.scope: .* is not in MCP_MANAGED_IDENTITY_SCOPES/,
      ],
      [{ ...nightDesk(V1), sip: { numbers: ['+18005550199'] } }, 409, /already routes to concierge/],
      [{ ...concierge }, 409, /exists/],
    ] as const;
    for (const [body, status, message] of bad) {
      const res = await operator('agents', { method: 'POST', ...json(body) });
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect((await errorOf(res)).message).toMatch(message);
    }
    expect((await operator('agents', { method: 'POST', as: 'maya', ...json(nightDesk(V1)) })).status).toBe(403);
    expect((await operator('agents/nobody-here', { method: 'DELETE' })).status).toBe(404);
    const audited = (await auditToday()).filter((e) => e.action === 'agents.create' && e.operator === 'ops');
    expect(audited.map((e) => e.outcome).sort()).toEqual([
      'conflict',
      'conflict',
      'invalid',
      'invalid',
      'invalid',
      'invalid',
      'invalid',
    ]);
  });

  it(
    'versions every change; a session keeps its version, new ones get the new one, retired agents vanish',
    {
      timeout: 90_000,
    },
    async () => {
      const created = await operator('agents', { method: 'POST', ...json(nightDesk(V1)) });
      expect(created.status).toBe(201);
      expect(await created.json()).toEqual({ id: 'night-desk', version: 1 });
      const listed = (await (await fetch(`${api()}/agents`)).json()) as { agents: { id: string }[] };
      expect(listed.agents.map((a) => a.id)).toContain('night-desk');

      // A session minted on version 1; the agent changes before the worker attaches.
      const start = await fetch(`${api()}/sessions`, {
        method: 'POST',
        headers: { ...asUser('ada'), 'content-type': 'application/json' },
        body: JSON.stringify({ agentId: 'night-desk' }),
      });
      const first = (await start.json()) as { sessionId: string; clientSecret: string; webrtcUrl: string };
      const updated = await operator('agents/night-desk', { method: 'PUT', ...json(nightDesk(V2)) });
      expect(await updated.json()).toEqual({ id: 'night-desk', version: 2 });
      const peer = new TestPeer();
      try {
        expect((await peer.connect(first.webrtcUrl, first.clientSecret)).status).toBe(201);
        await fetch(`${api()}/sessions/${first.sessionId}/call`, {
          method: 'POST',
          headers: { ...asUser('ada'), 'content-type': 'application/json' },
          body: JSON.stringify({ callId: peer.callId }),
        });
        await waitUntil(
          'the first session live',
          async () => (await sessionOf('ada', first.sessionId)).state === 'live',
        );
        // The worker applied version 1 on the sideband, not the newer one: after a turn (a round trip through the
        // service since the worker's session.update), the session still has version 1's instructions.
        peer.send({
          type: 'conversation.item.create',
          item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] },
        });
        peer.send({ type: 'response.create' });
        await waitUntil('an answer', async () => peer.answers().length > 0, 30_000);
        const summary = (await emulatorSession(stack, peer.callId)) as SessionSummary;
        expect(summary.instructions.startsWith(V1)).toBe(true);
        const live = (await (await operator('sessions')).json()) as { sessions: Record<string, unknown>[] };
        expect(live.sessions.find((s) => s.sessionId === first.sessionId)).toMatchObject({ agentVersion: 1 });

        // A new session gets version 2, without a redeploy.
        const second = (await (
          await fetch(`${api()}/sessions`, {
            method: 'POST',
            headers: { ...asUser('ada'), 'content-type': 'application/json' },
            body: JSON.stringify({ agentId: 'night-desk' }),
          })
        ).json()) as { sessionId: string };
        expect(second.sessionId).toBeTruthy();
        const row = await waitUntil('the second session row', async () => {
          const r = await fetch(`${api()}/operator/sessions`, { headers: asUser('ops') });
          const body = (await r.json()) as { sessions: Record<string, unknown>[] };
          return body.sessions.find((s) => s.sessionId === second.sessionId);
        });
        expect(row.agentVersion).toBe(2);

        // Retired: gone from the page's list and from new sessions; the running call keeps going.
        const retired = await operator('agents/night-desk', { method: 'DELETE' });
        expect(await retired.json()).toEqual({ id: 'night-desk', version: 2 });
        const after = (await (await fetch(`${api()}/agents`)).json()) as { agents: { id: string }[] };
        expect(after.agents.map((a) => a.id)).not.toContain('night-desk');
        const refused = await fetch(`${api()}/sessions`, {
          method: 'POST',
          headers: { ...asUser('ada'), 'content-type': 'application/json' },
          body: JSON.stringify({ agentId: 'night-desk' }),
        });
        expect(refused.status).toBe(404);
        expect((await sessionOf('ada', first.sessionId)).state).toBe('live');
        const all = (await (await operator('agents')).json()) as { agents: Record<string, unknown>[] };
        expect(all.agents.find((a) => a.id === 'night-desk')).toMatchObject({ version: 2, retired: true });
        const trail = (await auditToday())
          .filter((e) => e.operator === 'ops' && e.outcome === 'ok' && e.action.startsWith('agents.'))
          .map((e) => `${e.action} ${e.target}`)
          .sort();
        expect(trail).toEqual(
          expect.arrayContaining([
            'agents.create night-desk@1',
            'agents.retire night-desk@2',
            'agents.update night-desk@2',
          ]),
        );
      } finally {
        await peer.close();
      }
    },
  );
});
