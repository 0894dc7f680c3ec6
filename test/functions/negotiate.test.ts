import functions from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startWebPubSubEmulator, type WebPubSubEmulator } from '../../emulators/webpubsub/server';
import { createPublisher, createWebPubSubClient } from '../../shared/events/webpubsub';
import { HttpError } from '../../shared/http/errors';
import { http } from '../../functions/edge';
import { negotiateHandler, type NegotiateDeps } from '../../functions/handlers/negotiate';

const { HttpRequest, InvocationContext } = functions;

const owners: Record<string, string> = { s1: 'alice' };
const authorizeSessionOwner: NegotiateDeps['authorizeSessionOwner'] = async (req, sessionId) => {
  const user = req.headers.get('x-user-id');
  if (!user) throw new HttpError(401, 'unauthenticated', 'sign in first');
  if (owners[sessionId] !== user) throw new HttpError(404, 'not_found', 'session not found');
  return { userId: user };
};

async function call(deps: NegotiateDeps, query: string, user?: string) {
  const handler = http({ corsOrigins: [], maxBodyBytes: 1024 }, negotiateHandler(deps));
  const req = new HttpRequest({
    method: 'GET',
    url: `http://localhost/api/negotiate${query}`,
    headers: user ? { 'x-user-id': user } : {},
    query: Object.fromEntries(new URLSearchParams(query)),
  });
  const res = await handler(req, new InvocationContext());
  const init = res as functions.HttpResponseInit;
  return { status: init.status ?? 200, body: init.jsonBody as any };
}

describe('GET /api/negotiate', () => {
  let emu: WebPubSubEmulator;
  let deps: NegotiateDeps;
  beforeAll(async () => {
    emu = await startWebPubSubEmulator();
    deps = {
      webPubSub: createWebPubSubClient({
        WEBPUBSUB_CONNECTION_STRING: emu.connectionString,
        WEBPUBSUB_HUB: 'sessions',
      }),
      authorizeSessionOwner,
    };
  });
  afterAll(async () => emu?.close());

  it('gives the owner a URL that receives the session group and may join no other group', async () => {
    const res = await call(deps, '?sessionId=s1', 'alice');
    expect(res.status).toBe(200);
    const frames: any[] = [];
    const ws = new WebSocket(res.body.url, 'json.webpubsub.azure.v1');
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    await new Promise((r) => ws.once('open', r));
    await expect.poll(() => frames.some((f) => f.event === 'connected')).toBe(true);
    expect(frames[0].userId).toBe('alice');

    const publisher = createPublisher({ WEBPUBSUB_CONNECTION_STRING: emu.connectionString, WEBPUBSUB_HUB: 'sessions' });
    await publisher.publish({
      type: 'tool.started',
      sessionId: 's1',
      callId: 'c1',
      name: 'lookup_order',
      arguments: '{}',
      at: 1,
    });
    await publisher.publish({
      type: 'tool.started',
      sessionId: 's2',
      callId: 'c2',
      name: 'other',
      arguments: '{}',
      at: 1,
    });
    await expect.poll(() => frames.filter((f) => f.type === 'message').length).toBe(1);
    expect(frames.find((f) => f.type === 'message').data).toMatchObject({ sessionId: 's1', name: 'lookup_order' });

    ws.send(JSON.stringify({ type: 'joinGroup', group: 'session-s2', ackId: 1 }));
    await expect
      .poll(() => frames.find((f) => f.ackId === 1))
      .toMatchObject({ success: false, error: { name: 'Forbidden' } });
    ws.close();
  });

  it('refuses a caller who does not own the session, and an anonymous one', async () => {
    expect((await call(deps, '?sessionId=s1', 'mallory')).status).toBe(404);
    expect((await call(deps, '?sessionId=s1')).status).toBe(401);
  });

  it('names a missing or malformed sessionId', async () => {
    const missing = await call(deps, '', 'alice');
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/sessionId/);
    expect((await call(deps, '?sessionId=../etc', 'alice')).status).toBe(400);
  });

  it('answers 503 push_unavailable when Web PubSub is not configured', async () => {
    const res = await call({ authorizeSessionOwner }, '?sessionId=s1', 'alice');
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('push_unavailable');
  });
});
