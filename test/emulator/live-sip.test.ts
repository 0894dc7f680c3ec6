import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { attachSideband, livePeer, type LiveEvent } from './live-helpers';

const KEY = 'server-key';
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
let emu: RealtimeEmulator;
let receiver: Server;
let openai: OpenAI;
const received: { headers: Record<string, string>; body: string }[] = [];

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push({ headers: req.headers as Record<string, string>, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/webhooks/live`;
  emu = await startRealtimeEmulator({
    profile: 'live',
    apiKeys: [KEY],
    webhook: { url, secret: SECRET, backoffMs: 20 },
    callExpiryMs: 3000,
  });
  await emu.ready();
  openai = new OpenAI({ apiKey: KEY, baseURL: `${emu.url}/v1`, webhookSecret: SECRET });
});
afterAll(async () => {
  await emu?.stop();
  await new Promise((r) => receiver.close(r));
});

async function ring(from: string): Promise<{ sessionId: string; event: { data: Record<string, unknown> } }> {
  const { callId } = await emu.simulateIncomingSipCall({ from, to: 'sip:+15550100@sip.example' });
  const deadline = Date.now() + 5000;
  for (;;) {
    const hit = received.find((r) => r.body.includes(callId));
    if (hit) {
      // The SDK's own helper verifies the Standard Webhooks signature and parses the event.
      const event = await openai.webhooks.unwrap(hit.body, hit.headers);
      return { sessionId: callId, event: event as unknown as { data: Record<string, unknown> } };
    }
    if (Date.now() > deadline) throw new Error('no webhook');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const tools = [
  {
    type: 'function' as const,
    name: 'support__get_order',
    parameters: { type: 'object', properties: { orderId: { type: 'string' } } },
  },
];

describe('Live phone calls: live.transport.incoming and call control', () => {
  it('signs the webhook, accepts with Responses delegation, and runs a function-call turn over the sideband', async () => {
    const { sessionId, event } = await ring('sip:+15550123@carrier.example');
    expect(event).toMatchObject({ type: 'live.transport.incoming', object: 'event', data: { type: 'sip' } });
    expect(sessionId).toMatch(/^live_/);
    expect(event.data.session_id).toBe(sessionId);
    expect(event.data.sip_headers).toContainEqual({ name: 'From', value: 'sip:+15550123@carrier.example' });
    const tampered = received.find((r) => r.body.includes(sessionId))!;
    await expect(
      openai.webhooks.unwrap(tampered.body.replace('+15550123', '+15550999'), tampered.headers),
    ).rejects.toThrow();

    await openai.live.sessions.accept(sessionId, {
      session: {
        type: 'live',
        model: 'gpt-live-1',
        instructions: 'You are a customer support agent.',
        delegation: { type: 'responses', responses: { model: 'gpt-5', tools } },
      },
    });
    const side = await attachSideband(openai, sessionId);
    await emu.simulateCallerSpeech(sessionId, 'where is my order 1234');
    const delegated = await side.events.waitFor('session.delegation.created');
    const delegation = delegated.delegation as { id: string; target: string; response_id: string };
    expect(delegation.target).toBe('responses');
    const nested = (e: LiveEvent) => e.event as { type: string; [k: string]: unknown };
    const call = await side.events.waitFor(
      'response.event',
      (e) => nested(e).type === 'response.function_call_arguments.done',
    );
    expect(call.delegation_id).toBe(delegation.id);
    expect(nested(call)).toMatchObject({ name: 'support__get_order', arguments: JSON.stringify({ orderId: '1234' }) });
    const added = await side.events.waitFor('response.event', (e) => nested(e).type === 'response.output_item.added');
    const item = nested(added).item as { call_id: string; type: string };
    expect(item.type).toBe('function_call');
    const completed = await side.events.waitFor('response.event', (e) => nested(e).type === 'response.completed');
    expect((nested(completed).response as { id: string; output: unknown[] }).id).toBe(delegation.response_id);

    // Commentary for a delegation is refused under Responses delegation; the answer goes to the backend.
    side.ws.send({ type: 'session.commentary.append', event_id: 'evt_c', delegation_id: delegation.id, content: 'x' });
    await side.events.waitFor('error', (e) => (e.error as { param?: string }).param === 'delegation_id');
    const mark = side.events.events.length;
    side.ws.send({
      type: 'response.item.create',
      item: { type: 'function_call_output', call_id: item.call_id, output: JSON.stringify({ status: 'delivered' }) },
    });
    side.ws.send({ type: 'response.create' });
    const text = await side.events.waitFor('response.event', (e) => nested(e).type === 'response.output_text.done', {
      from: mark,
    });
    expect(nested(text).text).toBe('Order 1234 is delivered.');
    await side.events.until('session.output_transcript.delta', 'Order 1234 is delivered.');

    // Keypresses reach the sideband; the caller hangs up via the backend.
    emu.simulateDtmf(sessionId, '5');
    expect((await side.events.waitFor('transport.dtmf.received')).event).toBe('5');
    const keypad = await fetch(`${emu.url}/_emulator/calls/${sessionId}/dtmf`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ keys: '12' }),
    });
    expect(keypad.status).toBe(202);
    await side.events.waitFor('transport.dtmf.received', (e) => e.event === '2');
    expect(side.events.events.filter((e) => e.type === 'transport.dtmf.received').map((e) => e.event)).toEqual([
      '5',
      '1',
      '2',
    ]);
    side.ws.send({ type: 'transport.dtmf.send', event: '#', event_id: 'evt_dtmf' });
    expect((await side.events.waitFor('transport.dtmf.sent')).client_event_id).toBe('evt_dtmf');
    await openai.live.sessions.hangup(sessionId);
    expect((await side.events.waitFor('session.closed')).reason).toBe('close_requested');
    expect(emu.calls().find((c) => c.id === sessionId)?.state).toBe('ended');
  }, 60_000);

  it('keeps an accepted call when its sideband drops: a new sideband attaches and takes over', async () => {
    const { sessionId } = await ring('sip:+15550003@carrier.example');
    await openai.live.sessions.accept(sessionId, { session: { type: 'live', model: 'gpt-live-1' } });
    const side = await attachSideband(openai, sessionId);
    const dropped = new Promise<number>((r) => side.ws.socket.platformSocket.once('close', (code) => r(code)));
    emu.faults.set({ drop: { sessionId } });
    expect(await dropped).toBe(1011);
    emu.faults.clear();
    const again = await attachSideband(openai, sessionId);
    again.ws.send({ type: 'session.commentary.append', delegation_id: null, content: 'Still here.' });
    await again.events.until('session.output_transcript.delta', 'Still here.');
    await openai.live.sessions.hangup(sessionId);
    expect((await again.events.waitFor('session.closed')).reason).toBe('close_requested');
  }, 30_000);

  it('rejects and refers ringing calls, and refuses bad call control requests', async () => {
    const a = await ring('sip:+15550001@carrier.example');
    await expect(openai.live.sessions.reject(a.sessionId, { status_code: 200 })).rejects.toMatchObject({ status: 400 });
    await openai.live.sessions.reject(a.sessionId, { status_code: 486 });
    expect(emu.calls().find((c) => c.id === a.sessionId)).toMatchObject({ state: 'rejected', rejectStatus: 486 });
    await expect(
      openai.live.sessions.accept(a.sessionId, { session: { type: 'live', model: 'gpt-live-1' } }),
    ).rejects.toMatchObject({ status: 409 });

    const b = await ring('sip:+15550002@carrier.example');
    await expect(
      openai.live.sessions.accept(b.sessionId, { session: { model: 'gpt-live-1' } as never }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(openai.live.sessions.refer(b.sessionId, { target_uri: ' ' })).rejects.toMatchObject({ status: 400 });
    await openai.live.sessions.refer(b.sessionId, { target_uri: 'tel:+14155550123' });
    expect(emu.calls().find((c) => c.id === b.sessionId)).toMatchObject({
      state: 'referred',
      referredTo: 'tel:+14155550123',
    });
    await expect(openai.live.sessions.hangup('live_missing')).rejects.toMatchObject({ status: 404 });
  });
});

describe('live.transport.connected', () => {
  it('is posted, signed, once a WebRTC session is up', async () => {
    const { peer, sessionId } = await livePeer(openai, { model: 'gpt-live-1' });
    const deadline = Date.now() + 5000;
    let hit: (typeof received)[number] | undefined;
    while (!(hit = received.find((r) => r.body.includes(sessionId))) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    const event = await openai.webhooks.unwrap(hit!.body, hit!.headers);
    expect(event).toMatchObject({ type: 'live.transport.connected', data: { session_id: sessionId, type: 'webrtc' } });
    await openai.live.sessions.hangup(sessionId);
    await peer.close();
  }, 30_000);
});

describe('a ringing call offered on both APIs (sipSurfaces: both)', () => {
  let both: RealtimeEmulator;
  beforeAll(async () => {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/api/webhooks/both`;
    both = await startRealtimeEmulator({
      profile: 'live',
      apiKeys: [KEY],
      useEspeak: false,
      sipSurfaces: 'both',
      webhook: { url, secret: SECRET, backoffMs: 20 },
    });
  });
  afterAll(async () => {
    await both?.stop();
  });

  async function ringBoth(): Promise<{
    callId: string;
    realtimeCallId: string;
    events: { type: string; data: Record<string, unknown> }[];
  }> {
    const { callId, realtimeCallId } = await both.simulateIncomingSipCall({
      from: 'sip:+15550777@carrier.example',
      to: 'sip:+15550100@sip.example',
    });
    const deadline = Date.now() + 5000;
    for (;;) {
      const hits = received.filter((r) => r.body.includes(callId) || r.body.includes(realtimeCallId!));
      if (hits.length === 2) {
        const events = await Promise.all(hits.map((h) => openai.webhooks.unwrap(h.body, h.headers)));
        return { callId, realtimeCallId: realtimeCallId!, events: events as never };
      }
      if (Date.now() > deadline) throw new Error('expected two webhooks');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('raises realtime.call.incoming and live.transport.incoming; the first accept decides the surface', async () => {
    const client = new OpenAI({ apiKey: KEY, baseURL: `${both.url}/v1` });
    const a = await ringBoth();
    expect(a.events.map((e) => e.type).sort()).toEqual(['live.transport.incoming', 'realtime.call.incoming']);
    const callIdHeader = (e: { data: Record<string, unknown> }) =>
      (e.data.sip_headers as { name: string; value: string }[]).find((h) => h.name === 'Call-ID')?.value;
    expect(callIdHeader(a.events[0]!)).toBe(callIdHeader(a.events[1]!));
    await client.live.sessions.accept(a.callId, { session: { type: 'live', model: 'gpt-live-1' } });
    await expect(client.realtime.calls.accept(a.realtimeCallId, { type: 'realtime' })).rejects.toMatchObject({
      status: 409,
    });
    expect(both.calls().find((c) => c.id === a.realtimeCallId)).toMatchObject({
      state: 'ended',
      endedReason: 'answered on the Live API',
    });

    const b = await ringBoth();
    await client.realtime.calls.accept(b.realtimeCallId, { type: 'realtime', model: 'gpt-realtime' });
    await expect(
      client.live.sessions.accept(b.callId, { session: { type: 'live', model: 'gpt-live-1' } }),
    ).rejects.toMatchObject({ status: 409 });
    await expect(client.live.sessions.reject(b.callId, { status_code: 486 })).rejects.toMatchObject({ status: 409 });
    expect(both.calls().find((c) => c.id === b.callId)).toMatchObject({
      state: 'ended',
      endedReason: 'answered on the Realtime API',
    });
    await client.realtime.calls.hangup(b.realtimeCallId);
  });
});
