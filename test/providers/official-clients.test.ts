import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect as netConnect, type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { agentSchema } from '../../shared/agents/schema';
import { buildSessionConfig } from '../../shared/agents/session-config';
import { createProvider } from '../../shared/providers/index';
import { splitForCallAccept } from '../../shared/providers/call-accept';

const KEY = 'official-key';
const SECRET = `whsec_${Buffer.from('official-clients-webhook-secret').toString('base64')}`;
const BASES: Record<'azure-openai' | 'openai', string> = { 'azure-openai': '/openai/v1', openai: '/v1' };

/** Receives the emulator's webhooks, answering 200. */
let receiver: Server;
const received: { headers: IncomingHttpHeaders; body: string }[] = [];
beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => (received.push({ headers: req.headers, body }), res.writeHead(200).end()));
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
});
afterAll(() => new Promise((r) => receiver.close(r)));

const tools = [
  {
    type: 'function' as const,
    name: 'get_order',
    description: 'Look up an order',
    parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
  },
];

describe.each(['azure-openai', 'openai'] as const)('official clients against the %s profile', (profile) => {
  let emu: RealtimeEmulator;
  let client: OpenAI;
  beforeAll(async () => {
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    emu = await startRealtimeEmulator({ profile, apiKeys: [KEY], useEspeak: false, webhook: { url, secret: SECRET } });
    // Azure's v1 data plane takes the plain client with the key as a bearer (no api-version).
    client = new OpenAI({ apiKey: KEY, baseURL: `${emu.url}${BASES[profile]}`, webhookSecret: SECRET, maxRetries: 0 });
  });
  afterAll(async () => emu?.stop());

  it('openai: client secrets, then an OpenAIRealtimeWS session with a tool turn', async () => {
    const secret = await client.realtime.clientSecrets.create({
      expires_after: { anchor: 'created_at', seconds: 60 },
      session: { type: 'realtime', instructions: 'You are a support agent.', output_modalities: ['text'], tools },
    });
    expect(secret.value).toMatch(/^ek_/);
    const rt = new OpenAIRealtimeWS(
      { model: 'gpt-realtime', options: { createConnection: netConnect as never } },
      new OpenAI({ apiKey: secret.value, baseURL: `${emu.url}${BASES[profile]}` }),
    );
    const events: RealtimeServerEvent[] = [];
    rt.on('event', (e) => events.push(e));
    await new Promise<void>((r, j) => (rt.socket.once('open', () => r()), rt.socket.once('error', j)));
    rt.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is my order 1234' }] },
    });
    rt.send({ type: 'response.create' });
    const call = await new Promise<RealtimeServerEvent>((r) => rt.on('response.function_call_arguments.done', r));
    if (call.type !== 'response.function_call_arguments.done') throw new Error('no call');
    expect(call.name).toBe('get_order');
    rt.send({
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: call.call_id, output: '{"status":"shipped"}' },
    });
    rt.send({ type: 'response.create' });
    await expect
      .poll(() => events.find((e) => e.type === 'response.output_text.done' && e.text.includes('shipped')))
      .toBeTruthy();
    rt.close();
  });

  it('openai: webhooks.unwrap verifies the signed realtime.call.incoming; calls accept / refer / reject / hangup', async () => {
    received.length = 0;
    const { callId } = await emu.simulateIncomingSipCall({ from: 'sip:+15551230000@pstn', to: 'sip:+18005550100@t' });
    await expect.poll(() => received.length).toBeGreaterThan(0);
    const event = await client.webhooks.unwrap(received[0]!.body, received[0]!.headers as Record<string, string>);
    expect(event.type).toBe('realtime.call.incoming');
    if (event.type !== 'realtime.call.incoming') return;
    expect(event.data.call_id).toBe(callId);
    await expect(
      client.webhooks.unwrap(received[0]!.body.replace('18005550100', '18005550199'), received[0]!.headers as never),
    ).rejects.toThrow();

    await client.realtime.calls.accept(callId, { type: 'realtime', model: 'gpt-realtime', instructions: 'Hello.' });
    expect(emu.calls().find((c) => c.id === callId)?.state).toBe('active');
    await client.realtime.calls.refer(callId, { target_uri: 'tel:+14155550123' });
    expect(emu.calls().find((c) => c.id === callId)).toMatchObject({
      state: 'referred',
      referredTo: 'tel:+14155550123',
    });

    const b = await emu.simulateIncomingSipCall({ from: 'sip:+15551230001@pstn', to: 'sip:+18005550100@t' });
    await client.realtime.calls.reject(b.callId, { status_code: 486 });
    expect(emu.calls().find((c) => c.id === b.callId)).toMatchObject({ state: 'rejected', rejectStatus: 486 });

    const c = await emu.simulateIncomingSipCall({ from: 'sip:+15551230002@pstn', to: 'sip:+18005550100@t' });
    await client.realtime.calls.accept(c.callId, { type: 'realtime', model: 'gpt-realtime', instructions: 'Hi.' });
    await client.realtime.calls.hangup(c.callId);
    expect(emu.calls().find((x) => x.id === c.callId)?.state).toBe('ended');
  });

  it('answers the phone call of every shipped agent (the provider strips what accept refuses)', async () => {
    const dir = resolve(import.meta.dirname, '../../agents');
    const agents = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => agentSchema.parse(JSON.parse(readFileSync(resolve(dir, f), 'utf8'))));
    expect(agents.length).toBeGreaterThan(0);
    const provider = createProvider({
      REALTIME_PROVIDER: profile,
      REALTIME_ENDPOINT: emu.url,
      REALTIME_API_KEY: KEY,
      REALTIME_MODEL: 'gpt-realtime',
      REALTIME_API_VERSION: '2025-10-01',
    } satisfies Parameters<typeof createProvider>[0] as never);
    for (const agent of agents) {
      const session = buildSessionConfig(agent, tools, { model: 'gpt-realtime' });
      const { callId } = await emu.simulateIncomingSipCall({ from: '+15550009999', to: agent.sip.numbers[0] ?? '+1' });
      await provider.acceptCall(callId, session);
      expect(emu.calls().find((c) => c.id === callId)?.state, agent.id).toBe('active');
      // What accept could not carry is applied over the sideband once attached.
      const { tuning } = splitForCallAccept(session);
      const ws = await provider.openSideband(callId);
      const seen: RealtimeServerEvent[] = [];
      ws.on('message', (d) => seen.push(JSON.parse(d.toString()) as RealtimeServerEvent));
      if (tuning) ws.send(JSON.stringify({ type: 'session.update', session: tuning }));
      await expect
        .poll(() => seen.find((e) => e.type === (tuning ? 'session.updated' : 'session.created')))
        .toBeTruthy();
      const last = seen.filter((e) => e.type === 'session.updated' || e.type === 'session.created').at(-1);
      const td =
        last && 'session' in last ? (last.session as { audio?: { input?: { turn_detection?: unknown } } }) : {};
      expect(td.audio?.input?.turn_detection, agent.id).toMatchObject(agent.turnDetection ?? {});
      ws.close();
      await provider.hangupCall(callId);
    }
  });
});
