import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { RawClient, wsUrl } from './helpers';

const KEY = 'server-key';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
let emu: RealtimeEmulator;
let receiver: Server;
const received: { headers: Record<string, string>; body: string; status: number }[] = [];
/** Statuses the receiver answers with, in order; then 200. */
let script: number[] = [];

/** Standard Webhooks verification written from the spec, independent of the emulator's signer. */
function verify(headers: Record<string, string>, body: string): boolean {
  const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`)
    .digest();
  return (headers['webhook-signature'] ?? '').split(' ').some((sig) => {
    const [version, b64] = sig.split(',');
    const got = Buffer.from(b64 ?? '', 'base64');
    return version === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const status = script.shift() ?? 200;
      received.push({ headers: req.headers as Record<string, string>, body, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/webhooks/realtime`;
  emu = await startRealtimeEmulator({
    apiKeys: [KEY],
    useEspeak: false,
    webhook: { url, secret: SECRET, backoffMs: 20 },
    callExpiryMs: 1500,
  });
});
afterAll(async () => {
  await emu?.stop();
  await new Promise((r) => receiver.close(r));
});

/** Azure's accept takes type, model and instructions, all required. */
const ACCEPT = { type: 'realtime', model: 'gpt-realtime', instructions: 'You answer the phone.' };
const post = (path: string, body?: unknown) =>
  fetch(`${emu.url}${path}`, {
    method: 'POST',
    headers: { 'api-key': KEY, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

describe('SIP calls', () => {
  it('sends a signed realtime.call.incoming webhook, retrying on failure, and runs the accepted call over the sideband', async () => {
    received.length = 0;
    script = [500, 503];
    const res = await fetch(`${emu.url}/_emulator/sip/incoming`, {
      method: 'POST',
      body: JSON.stringify({ from: 'sip:+15551234567@pstn.example', to: 'sip:support@agents.example' }),
    });
    expect(res.status).toBe(201);
    const { callId } = (await res.json()) as { callId: string };
    await expect.poll(() => received.length, { timeout: 5000 }).toBe(3);
    const ids = new Set(received.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(1); // one event, retried: receivers dedupe on webhook-id
    for (const r of received) expect(verify(r.headers, r.body)).toBe(true);
    expect(verify({ ...received[2]!.headers }, received[2]!.body.replace('support', 'sales'))).toBe(false);
    const event = JSON.parse(received[2]!.body);
    expect(event).toMatchObject({ object: 'event', type: 'realtime.call.incoming', data: { call_id: callId } });
    expect(event.id).toMatch(/^evt_/);
    expect(event.data.sip_headers).toEqual(
      expect.arrayContaining([
        { name: 'From', value: 'sip:+15551234567@pstn.example' },
        { name: 'To', value: 'sip:support@agents.example' },
      ]),
    );

    // Not accepted yet: no sideband.
    await expect(RawClient.open(wsUrl(emu.url, `call_id=${callId}`), { 'api-key': KEY })).rejects.toMatchObject({
      status: 404,
    });
    expect(
      (
        await post(`/openai/v1/realtime/calls/${callId}/accept`, {
          ...ACCEPT,
          instructions: 'You are a support agent.',
          output_modalities: ['text'],
        })
      ).status,
    ).toBe(200);
    const side = await RawClient.open(wsUrl(emu.url, `call_id=${callId}`), { 'api-key': KEY });
    expect((await side.waitFor('session.created')).session).toMatchObject({ instructions: 'You are a support agent.' });
    side.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] },
    });
    side.send({ type: 'response.create' });
    expect((await side.waitFor('response.output_text.done')).text).toMatch(/help/);
    expect((await post(`/openai/v1/realtime/calls/${callId}/hangup`)).status).toBe(200);
    await expect.poll(() => side.closed?.code, { timeout: 5000 }).toBe(1000);
    expect((await post(`/openai/v1/realtime/calls/${callId}/hangup`)).status).toBe(409);
  });

  it('rejects, refers and expires calls', async () => {
    const a = await emu.simulateIncomingSipCall({ from: 'sip:a@x', to: 'sip:b@y' });
    expect((await post(`/openai/v1/realtime/calls/${a.callId}/reject`, { status_code: 486 })).status).toBe(200);
    expect(emu.calls().find((c) => c.id === a.callId)).toMatchObject({ state: 'rejected', rejectStatus: 486 });

    const b = await emu.simulateIncomingSipCall({ from: 'sip:a@x', to: 'sip:b@y' });
    expect((await post(`/openai/v1/realtime/calls/${b.callId}/accept`, ACCEPT)).status).toBe(200);
    expect((await post(`/openai/v1/realtime/calls/${b.callId}/refer`, { target_uri: 'tel:+15550001111' })).status).toBe(
      200,
    );
    expect(emu.calls().find((c) => c.id === b.callId)).toMatchObject({
      state: 'referred',
      referredTo: 'tel:+15550001111',
    });

    const c = await emu.simulateIncomingSipCall({ from: 'sip:a@x', to: 'sip:b@y' });
    await expect.poll(() => emu.calls().find((x) => x.id === c.callId)?.state, { timeout: 8000 }).toBe('expired');
    const late = await post(`/openai/v1/realtime/calls/${c.callId}/accept`, ACCEPT);
    expect(late.status).toBe(409);

    const unknown = await post('/openai/v1/realtime/calls/rtc_nope/accept', ACCEPT);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('call_not_found');
  });

  it('injects faults: rejected accept, 429 with Retry-After, dropped sideband', async () => {
    const call = await emu.simulateIncomingSipCall({ from: 'sip:a@x', to: 'sip:b@y' });
    emu.faults.set({ rejectAccept: { status: 500, times: 1 } });
    expect((await post(`/openai/v1/realtime/calls/${call.callId}/accept`, ACCEPT)).status).toBe(500);
    expect((await post(`/openai/v1/realtime/calls/${call.callId}/accept`, ACCEPT)).status).toBe(200);

    const f = await fetch(`${emu.url}/_emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ rest: { status: 429, times: 1, retryAfterSeconds: 2 } }),
    });
    expect(f.status).toBe(200);
    const limited = await post('/openai/v1/realtime/client_secrets', {});
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect((await post('/openai/v1/realtime/client_secrets', {})).status).toBe(200);

    emu.faults.set({ rest: { status: 429, times: 1, retryAfterSeconds: 3, match: '/v1/realtime' } });
    await expect(RawClient.open(wsUrl(emu.url, `call_id=${call.callId}`), { 'api-key': KEY })).rejects.toMatchObject({
      status: 429,
    });
    emu.faults.set({ delayMs: 250 });
    const t0 = Date.now();
    expect((await post('/openai/v1/realtime/client_secrets', {})).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(240);
    emu.faults.clear();

    const side = await RawClient.open(wsUrl(emu.url, `call_id=${call.callId}`), { 'api-key': KEY });
    await side.waitFor('session.created');
    emu.faults.set({ drop: { callId: call.callId } });
    await expect.poll(() => side.closed?.code, { timeout: 5000 }).toBe(1011);
    // Dropping the sideband does not end the call: a new sideband can attach.
    const again = await RawClient.open(wsUrl(emu.url, `call_id=${call.callId}`), { 'api-key': KEY });
    await again.waitFor('session.created');
    again.close();
    emu.faults.clear();
  });
});
