import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import { WebPubSubClient, WebPubSubJsonProtocol } from '@azure/web-pubsub-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createPublisher, createWebPubSubClient, sessionGroup } from '../../shared/events/webpubsub';
import { startWebPubSubEmulator, type WebPubSubEmulator } from '../../emulators/webpubsub/server';

const client = (cs: string, hub = 'sessions') =>
  createWebPubSubClient({ WEBPUBSUB_CONNECTION_STRING: cs, WEBPUBSUB_HUB: hub }) as WebPubSubServiceClient;

/** Opens a raw json.webpubsub.azure.v1 socket and collects every frame. */
async function rawClient(url: string) {
  const frames: any[] = [];
  const waiters: { pred: (f: any) => boolean; resolve: (f: any) => void }[] = [];
  const ws = new WebSocket(url, 'json.webpubsub.azure.v1');
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString());
    frames.push(f);
    for (const w of [...waiters])
      if (w.pred(f)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(f);
      }
  });
  const next = (pred: (f: any) => boolean, ms = 3000) =>
    new Promise<any>((resolve, reject) => {
      const hit = frames.find(pred);
      if (hit) return resolve(hit);
      const t = setTimeout(() => reject(new Error('timed out waiting for a frame')), ms);
      waiters.push({ pred, resolve: (f) => (clearTimeout(t), resolve(f)) });
    });
  await new Promise<void>((resolve, reject) => (ws.once('open', () => resolve()), ws.once('error', reject)));
  const connected = await next((f) => f.type === 'system' && f.event === 'connected');
  return {
    ws,
    frames,
    next,
    connectionId: connected.connectionId as string,
    send: (m: unknown) => ws.send(JSON.stringify(m)),
  };
}

describe('Web PubSub emulator with the real SDKs', () => {
  let emu: WebPubSubEmulator;
  let service: WebPubSubServiceClient;
  beforeAll(async () => {
    emu = await startWebPubSubEmulator();
    service = client(emu.connectionString);
  });
  afterAll(async () => emu?.close());

  it('delivers a server send-to-group to a client that joined through its token', async () => {
    const { url } = await service.getClientAccessToken({
      groups: ['session-a'],
      roles: ['webpubsub.joinLeaveGroup.session-a'],
    });
    const c = await rawClient(url);
    await service.group('session-a').sendToAll({ type: 'state', state: 'live' });
    const msg = await c.next((f) => f.type === 'message');
    expect(msg).toEqual({
      type: 'message',
      from: 'group',
      group: 'session-a',
      dataType: 'json',
      data: { type: 'state', state: 'live' },
    });
    await service.group('session-a').sendToAll('plain text', { contentType: 'text/plain' });
    expect(await c.next((f) => f.dataType === 'text')).toMatchObject({ data: 'plain text' });
    c.ws.close();
  });

  it('lets a group-scoped token join its own group but not another', async () => {
    const { url } = await service.getClientAccessToken({ roles: ['webpubsub.joinLeaveGroup.session-a'] });
    const c = await rawClient(url);
    c.send({ type: 'joinGroup', group: 'session-b', ackId: 1 });
    expect(await c.next((f) => f.ackId === 1)).toMatchObject({
      type: 'ack',
      success: false,
      error: { name: 'Forbidden' },
    });
    c.send({ type: 'joinGroup', group: 'session-a', ackId: 2 });
    expect(await c.next((f) => f.ackId === 2)).toEqual({ type: 'ack', ackId: 2, success: true });
    c.send({ type: 'joinGroup', group: 'session-a', ackId: 2 });
    expect(await c.next((f) => f.ackId === 2 && f.success === false)).toMatchObject({ error: { name: 'Duplicate' } });

    await service.group('session-b').sendToAll({ n: 'b' });
    await service.group('session-a').sendToAll({ n: 'a' });
    const got = await c.next((f) => f.type === 'message');
    expect(got.group).toBe('session-a');
    expect(c.frames.filter((f) => f.type === 'message' && f.group === 'session-b')).toHaveLength(0);
    c.send({ type: 'sendToGroup', group: 'session-a', dataType: 'json', data: { spoof: true }, ackId: 3 });
    expect(await c.next((f) => f.ackId === 3)).toMatchObject({ success: false, error: { name: 'Forbidden' } });
    c.ws.close();
  });

  it('refuses a token signed with another key, an expired one, and one for another hub', async () => {
    const other = client(emu.connectionString.replace(/AccessKey=[^;]+/, 'AccessKey=not-the-key'));
    const forged = await other.getClientAccessToken({ groups: ['session-a'] });
    const expired = await service.getClientAccessToken({ expirationTimeInMinutes: -1 });
    const otherHub = await client(emu.connectionString, 'otherhub').getClientAccessToken();
    for (const url of [forged.url, expired.url, otherHub.url.replace('/otherhub', '/sessions')]) {
      const status = await new Promise<number>((resolve) => {
        const ws = new WebSocket(url, 'json.webpubsub.azure.v1');
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => (ws.close(), resolve(101)));
        ws.on('error', () => resolve(-1));
      });
      expect(status).toBe(401);
    }
    await expect(other.group('session-a').sendToAll({ x: 1 })).rejects.toMatchObject({ statusCode: 401 });
  });

  it('answers the SDK group and connection operations', async () => {
    const { url } = await service.getClientAccessToken({ userId: 'u1', groups: ['g1'] });
    const c = await rawClient(url);
    expect(await service.groupExists('g1')).toBe(true);
    expect(await service.groupExists('nobody-here')).toBe(false);
    expect(await service.connectionExists(c.connectionId)).toBe(true);
    await service.group('g2').addConnection(c.connectionId);
    expect(emu.hubs.connection('sessions', c.connectionId)?.groups).toEqual(new Set(['g1', 'g2']));
    await service.sendToUser('u1', { hello: 'user' });
    expect(await c.next((f) => f.from === 'server')).toMatchObject({ dataType: 'json', data: { hello: 'user' } });
    await service.closeConnection(c.connectionId, { reason: 'bye' });
    expect(await c.next((f) => f.event === 'disconnected')).toMatchObject({ message: 'bye' });
  });

  it('works with the @azure/web-pubsub-client SDK and the session publisher', async () => {
    const sessionId = 'abc123';
    const wps = new WebPubSubClient(
      {
        getClientAccessUrl: async () =>
          (
            await service.getClientAccessToken({
              groups: [sessionGroup(sessionId)],
              roles: [`webpubsub.joinLeaveGroup.${sessionGroup(sessionId)}`],
            })
          ).url,
      },
      { protocol: WebPubSubJsonProtocol() },
    );
    const received: unknown[] = [];
    wps.on('group-message', (e) => received.push(e.message.data));
    await wps.start();
    await wps.joinGroup(sessionGroup(sessionId));
    const errors: unknown[] = [];
    const publisher = createPublisher(
      { WEBPUBSUB_CONNECTION_STRING: emu.connectionString, WEBPUBSUB_HUB: 'sessions' },
      { onError: (e) => errors.push(e) },
    );
    await publisher.publish({ type: 'state', sessionId, state: 'live', at: 1 });
    await publisher.publish({ type: 'state', sessionId: 'someone-else', state: 'live', at: 2 });
    await expect.poll(() => received.length).toBe(1);
    expect(received[0]).toEqual({ type: 'state', sessionId, state: 'live', at: 1 });
    expect(errors).toEqual([]);
    wps.stop();
  });

  it('recovers a dropped reliable connection with the messages sent meanwhile, in order and once', async () => {
    const wps = new WebPubSubClient({
      getClientAccessUrl: async () => (await service.getClientAccessToken({ groups: ['rel'] })).url,
    }); // the SDK's default protocol: json.reliable.webpubsub.azure.v1
    const got: unknown[] = [];
    const connected: string[] = [];
    wps.on('connected', (e) => connected.push(e.connectionId));
    wps.on('group-message', (e) => got.push(e.message.data));
    await wps.start();
    await service.group('rel').sendToAll({ n: 1 });
    await expect.poll(() => got.length).toBe(1);

    const c = emu.hubs.connection('sessions', connected[0]!)!;
    const dropped = c.socket;
    dropped.terminate(); // the network goes
    await service.group('rel').sendToAll({ n: 2 });
    await service.group('rel').sendToAll({ n: 3 });
    await expect.poll(() => got, { timeout: 10_000 }).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    // The same connection came back on a new socket; no second `connected`, no duplicates.
    expect(connected).toHaveLength(1);
    expect(emu.hubs.connection('sessions', connected[0]!)!.socket).not.toBe(dropped);
    await expect
      .poll(() => emu.hubs.connection('sessions', connected[0]!)!.reliable!.unacked.length, { timeout: 5000 })
      .toBe(0);
    wps.stop(); // a clean close leaves nothing to recover
    await expect.poll(() => emu.hubs.connection('sessions', connected[0]!)).toBeUndefined();
  });

  it('refuses to recover an unknown connection with close code 1008', async () => {
    const { url } = await service.getClientAccessToken();
    const ws = new WebSocket(
      `${url}&awps_connection_id=nope&awps_reconnection_token=nope`,
      'json.reliable.webpubsub.azure.v1',
    );
    const frames: any[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
    const code = await new Promise<number>((resolve) => ws.on('close', (c) => resolve(c)));
    expect(code).toBe(1008);
    expect(frames).toEqual([{ type: 'system', event: 'disconnected', message: 'the connection cannot be recovered' }]);
  });

  it('reports a failed publish through onError instead of throwing', async () => {
    const errors: unknown[] = [];
    const publisher = createPublisher(
      {
        WEBPUBSUB_CONNECTION_STRING: 'Endpoint=http://127.0.0.1;Port=1;AccessKey=x;Version=1.0;',
        WEBPUBSUB_HUB: 'sessions',
      },
      { onError: (e) => errors.push(e), timeoutMs: 1000 },
    );
    await expect(publisher.publish({ type: 'state', sessionId: 's', state: 'live', at: 1 })).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
  });
});
