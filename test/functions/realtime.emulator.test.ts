import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { freePort } from '../../dev/ports';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import { signWebhook } from '../../shared/webhooks/standard-webhooks';
import { postJson, startHarness, TABLES, WEBHOOK_SECRET, type Harness } from './harness';
import { TestPeer } from '../emulator/webrtc-peer';

interface Captured {
  headers: Record<string, string>;
  body: Buffer;
  status: number;
}

/** Sits between the emulator and the Function app, recording each webhook delivery as sent. */
async function captureProxy(target: () => string): Promise<{ url: string; seen: Captured[]; close(): Promise<void> }> {
  const seen: Captured[] = [];
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const headers = Object.fromEntries(
      ['content-type', 'webhook-id', 'webhook-timestamp', 'webhook-signature'].map((k) => [
        k,
        String(req.headers[k] ?? ''),
      ]),
    );
    const forward = () => fetch(target(), { method: 'POST', headers, body: new Uint8Array(body) });
    // A pooled keep-alive socket can be found closed as it is reused ("other side closed"); like any proxy,
    // try once more on a fresh connection (deliveries are idempotent by webhook-id anyway).
    const upstream = await forward()
      .catch(forward)
      .catch(() => undefined);
    if (!upstream) {
      // The Function app is not there (the suite is tearing down): answer as a gateway would, record nothing.
      res.writeHead(502).end();
      return;
    }
    const text = await upstream.text();
    seen.push({ headers, body, status: upstream.status });
    res.writeHead(upstream.status, { 'content-type': 'application/json' });
    res.end(text);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    seen,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const waitFor = async <T>(fn: () => T | undefined, timeoutMs = 8000): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** Opens a WebSocket with a credential; resolves with the first event or the refused upgrade's status. */
function connect(url: string, key: string): Promise<{ status: number; first?: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${key}` } });
    ws.on(
      'unexpected-response',
      (_req, res) => (res.resume(), ws.on('error', () => {}), ws.terminate(), resolve({ status: res.statusCode ?? 0 })),
    );
    ws.on('message', (d) => (ws.close(), resolve({ status: 101, first: JSON.parse(d.toString()) })));
    ws.on('error', () => resolve({ status: 0 }));
  });
}

/** The session and webhook functions against the realtime emulator and Azurite, nothing mocked. */
describe('functions with the realtime emulator', () => {
  let h: Harness;
  let emulator: RealtimeEmulator;
  let proxy: Awaited<ReturnType<typeof captureProxy>>;
  let clockOffsetMs = 0;

  beforeAll(async () => {
    const port = await freePort();
    proxy = await captureProxy(() => `http://127.0.0.1:${port}/api/webhooks/realtime`);
    emulator = await startRealtimeEmulator({
      port: 0,
      apiKeys: ['emulator-dev-key'],
      useEspeak: false,
      webhook: { url: proxy.url, secret: WEBHOOK_SECRET, backoffMs: 100 },
      now: () => Date.now() + clockOffsetMs,
    });
    h = await startHarness({ port, env: { REALTIME_ENDPOINT: emulator.url, SESSION_TOKEN_TTL_SECONDS: '30' } });
  });
  afterAll(async () => {
    // The sender first, so no delivery retry reaches a Function app that is already gone.
    await emulator?.stop();
    await proxy?.close();
    await h?.stop();
  });

  it('a token minted here is used by a WebRTC peer; the call is registered; the sideband attaches to it', async () => {
    const res = await postJson(`${h.api}/sessions`, { agentId: 'concierge' }, { 'x-user-id': 'walter' });
    const { sessionId, clientSecret, webrtcUrl } = await res.json();
    const peer = new TestPeer();
    try {
      const answer = await peer.connect(webrtcUrl, clientSecret);
      expect(answer.status).toBe(201);
      expect(answer.headers.get('content-type')).toMatch(/application\/sdp/);
      expect(await answer.text()).toMatch(/^v=0/);
      expect(peer.callId).toMatch(/^rtc_/);
      const agent = (await h.deps.agents.get('concierge'))!;
      // The page reports the call id; the lifecycle is told, and the worker's sideband can attach to it.
      const reg = await postJson(
        `${h.api}/sessions/${sessionId}/call`,
        { callId: peer.callId },
        { 'x-user-id': 'walter' },
      );
      expect(reg.status).toBe(202);
      expect(h.signals.at(-1)).toMatchObject({ sessionId, op: { type: 'callRegistered', callId: peer.callId } });
      const sideband = await h.deps.provider.openSideband(peer.callId);
      const created = await new Promise<Record<string, unknown>>((r) =>
        sideband.once('message', (d) => r(JSON.parse(d.toString()))),
      );
      expect(created).toMatchObject({
        type: 'session.created',
        session: { instructions: expect.stringContaining(agent.instructions) },
      });
      // Under webrtcfilter=on the page's data channel never carries the session (instructions, tools).
      expect(peer.events.some((e) => e.type === 'session.created' || e.type === 'session.updated')).toBe(false);
      sideband.close();
    } finally {
      await peer.close();
    }
  });

  it('a WebRTC offer with an expired or a foreign token is refused with 401', async () => {
    const { clientSecret, webrtcUrl } = await (
      await postJson(`${h.api}/sessions`, { agentId: 'concierge' }, { 'x-user-id': 'xena' })
    ).json();
    const forged = new TestPeer();
    const expired = new TestPeer();
    try {
      expect((await forged.connect(webrtcUrl, 'ek_not_minted_by_anyone_000000000')).status).toBe(401);
      clockOffsetMs = 31_000;
      const res = await expired.connect(webrtcUrl, clientSecret);
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe('expired_api_key');
    } finally {
      clockOffsetMs = 0;
      await forged.close();
      await expired.close();
    }
  });

  it('mints a token the service honours for the agent session, and refuses it once expired', async () => {
    const res = await postJson(`${h.api}/sessions`, { agentId: 'concierge' }, { 'x-user-id': 'alice' });
    expect(res.status).toBe(201);
    const { clientSecret, websocketUrl, webrtcUrl, expiresAt } = await res.json();
    expect(webrtcUrl).toBe(`${emulator.url}/openai/v1/realtime/calls?webrtcfilter=on`);
    expect(expiresAt - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(30);
    const agent = (await h.deps.agents.get('concierge'))!;
    const ok = await connect(websocketUrl, clientSecret);
    expect(ok.status).toBe(101);
    expect(ok.first).toMatchObject({
      type: 'session.created',
      session: { instructions: expect.stringContaining(agent.instructions) },
    });
    clockOffsetMs = 31_000;
    try {
      expect((await connect(websocketUrl, clientSecret)).status).toBe(401);
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('refuses a foreign token (made up, or minted by another service) and never accepts the server API key path for it', async () => {
    const { websocketUrl } = await (
      await postJson(`${h.api}/sessions`, { agentId: 'concierge' }, { 'x-user-id': 'bob' })
    ).json();
    expect((await connect(websocketUrl, 'ek_forged_0000000000000000000000')).status).toBe(401);
    const other = await startRealtimeEmulator({ port: 0, apiKeys: ['other-key'], useEspeak: false });
    try {
      const minted = await fetch(`${other.url}/openai/v1/realtime/client_secrets`, {
        method: 'POST',
        headers: { 'api-key': 'other-key', 'content-type': 'application/json' },
        body: JSON.stringify({ session: { type: 'realtime', instructions: 'evil twin' } }),
      });
      const { value } = await minted.json();
      expect((await connect(websocketUrl, value)).status).toBe(401);
    } finally {
      await other.stop();
    }
  });

  it('a SIP call: the signed webhook is verified and the call accepted once, though delivered three times', async () => {
    const { callId } = await emulator.simulateIncomingSipCall({ from: '+14155550123', to: '+18005550100' });
    const first = await waitFor(() => proxy.seen.find((c) => c.body.toString().includes(callId)));
    expect(first.status).toBe(200);
    const call = await waitFor(() => emulator.calls().find((c) => c.id === callId && c.state === 'active'));
    const session = emulator.sessions().find((s) => s.callId === callId)!;
    const agent = (await h.deps.agents.get('customer-support'))!;
    expect(session.instructions).toContain(agent.instructions);
    expect(session.tools.sort()).toEqual(expect.arrayContaining(['get_order']));
    // The sender retries the same webhook-id (fresh timestamp and signature each time): replay it twice.
    for (let i = 0; i < 2; i++) {
      const ts = Math.floor(Date.now() / 1000);
      const again = await fetch(`${h.api}/webhooks/realtime`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signWebhook(WEBHOOK_SECRET, first.headers['webhook-id']!, ts, first.body),
        },
        body: new Uint8Array(first.body),
      });
      expect(await again.json()).toMatchObject({ status: 'duplicate' });
    }
    expect(call.webhooks[0]!.attempts).toHaveLength(1);
    const sessionId = sessionIdForCall(callId);
    // One session row and, beside it in its partition, the local lifecycle's one record.
    const rows = (await h.rows(TABLES.sessions)).filter((r) => r.partitionKey === sessionId);
    expect(rows.map((r) => r.rowKey).sort()).toEqual(['', 'lifecycle']);
    expect((await h.rows(TABLES.webhooks)).filter((r) => r.partitionKey === first.headers['webhook-id'])).toMatchObject(
      [{ status: 'processed' }],
    );
    expect(h.signals.filter((s) => s.sessionId === sessionId).map((s) => s.op.type)).toEqual(['requested', 'accepted']);
    // The lifecycle's worker can attach: the call is live on the service.
    const sideband = await h.deps.provider.openSideband(callId);
    sideband.close();
  });

  it('a call to an unrouted number is rejected with SIP 404 and leaves no session', async () => {
    const { callId } = await emulator.simulateIncomingSipCall({ from: '+14155550124', to: '+19995550000' });
    const call = await waitFor(() => emulator.calls().find((c) => c.id === callId && c.state === 'rejected'));
    expect(call.rejectStatus).toBe(404);
    expect((await h.rows(TABLES.sessions)).filter((r) => r.partitionKey === sessionIdForCall(callId))).toHaveLength(0);
  });

  it('an accept that fails upstream is retried by the sender and then succeeds, once', async () => {
    emulator.faults.set({ rejectAccept: { status: 500, times: 1 } });
    const { callId } = await emulator.simulateIncomingSipCall({ from: '+14155550125', to: '+18005550199' });
    await waitFor(() => emulator.calls().find((c) => c.id === callId && c.state === 'active'));
    // The call turns active inside the accepted delivery, before the proxy has seen that delivery's answer.
    const attempts = () => proxy.seen.filter((c) => c.body.toString().includes(callId)).map((c) => c.status);
    await waitFor(() => attempts().length >= 2 || undefined);
    expect(attempts()).toEqual([502, 200]);
  });
});
