import { connect as netConnect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { RawClient, wsUrl } from './helpers';

const KEY = 'test-key';
let emu: RealtimeEmulator;

beforeAll(async () => {
  emu = await startRealtimeEmulator({ apiKeys: [KEY], useEspeak: false });
});
afterAll(async () => {
  await emu?.stop();
});

const supportTools = [
  {
    type: 'function' as const,
    name: 'support__get_order',
    description: 'Look up an order',
    parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
  },
  {
    type: 'function' as const,
    name: 'support__search_kb',
    parameters: { type: 'object', properties: { query: { type: 'string' } } },
  },
];

describe('realtime emulator over WebSocket', () => {
  it('answers a text turn through the openai package client', async () => {
    // Azure's v1 data plane takes the plain OpenAI client (key as bearer, no api-version).
    const client = new OpenAI({ apiKey: KEY, baseURL: `${emu.url}/openai/v1` });
    // OpenAIRealtimeWS always asks for wss://; the emulator speaks plain ws on loopback, so hand ws a TCP socket.
    const rt = new OpenAIRealtimeWS(
      { model: 'gpt-realtime', options: { createConnection: netConnect as never } },
      client,
    );
    const events: RealtimeServerEvent[] = [];
    rt.on('event', (e) => events.push(e));
    await new Promise<void>((resolve, reject) => {
      rt.socket.once('open', () => resolve());
      rt.socket.once('error', reject);
    });
    const done = new Promise<RealtimeServerEvent>((resolve) => rt.on('response.done', resolve));
    rt.send({
      type: 'session.update',
      session: { type: 'realtime', output_modalities: ['text'], instructions: 'Be brief.' },
    });
    rt.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hello there' }] },
    });
    rt.send({ type: 'response.create' });
    const final = await done;
    rt.close();
    const types = events.map((e) => e.type);
    expect(types.slice(0, 2)).toEqual(['session.created', 'session.updated']);
    expect(types).toContain('conversation.item.added');
    expect(types).toContain('response.output_text.delta');
    const text = events.find((e) => e.type === 'response.output_text.done');
    expect(text && 'text' in text && text.text).toBe('Hello! How can I help you today?');
    expect(final.type === 'response.done' && final.response.status).toBe('completed');
    expect(final.type === 'response.done' && final.response.usage?.output_tokens).toBeGreaterThan(0);
  });

  it('calls a declared (namespaced) tool and answers from its output', async () => {
    const c = await RawClient.open(wsUrl(emu.url, 'model=gpt-realtime'), { 'api-key': KEY });
    c.send({
      type: 'session.update',
      session: {
        type: 'realtime',
        output_modalities: ['text'],
        instructions: 'You are a support agent.',
        tools: supportTools,
      },
    });
    c.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Where is my order 1234?' }] },
    });
    c.send({ type: 'response.create' });
    const args = await c.waitFor('response.function_call_arguments.done');
    expect(args.name).toBe('support__get_order');
    expect(JSON.parse(args.arguments)).toEqual({ orderId: '1234' });
    const first = await c.waitFor('response.done');
    expect(first.response.output?.[0]?.type).toBe('function_call');
    const mark = c.events.length;
    c.send({
      type: 'conversation.item.create',
      item: {
        type: 'function_call_output',
        call_id: args.call_id,
        output: JSON.stringify({ status: 'shipped', carrier: 'DHL' }),
      },
    });
    c.send({ type: 'response.create' });
    const answer = await c.waitFor('response.output_text.done', undefined, { from: mark });
    expect(answer.text).toBe('Order 1234 is shipped.');
    c.close();
  });

  it('never calls a tool the session does not declare', async () => {
    const c = await RawClient.open(wsUrl(emu.url, 'model=gpt-realtime'), { authorization: `Bearer ${KEY}` });
    c.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'] } });
    c.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is my order 1234' }] },
    });
    c.send({ type: 'response.create' });
    const done = await c.waitFor('response.done');
    expect(done.response.output?.[0]?.type).toBe('message');
    expect(c.types()).not.toContain('response.function_call_arguments.done');
    c.close();
  });

  it('answers malformed and unknown client events with GA error events', async () => {
    const c = await RawClient.open(wsUrl(emu.url, 'model=gpt-realtime'), { 'api-key': KEY });
    c.sendRaw('{not json');
    const e1 = await c.waitFor('error');
    expect(e1.error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_json' });
    c.send({ type: 'session.dance', event_id: 'evt_client_1' });
    const e2 = await c.waitFor('error', (e) => e.error.event_id === 'evt_client_1');
    expect(e2.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_value',
      param: 'type',
      event_id: 'evt_client_1',
    });
    expect(typeof e2.event_id).toBe('string');
    c.send({
      type: 'conversation.item.create',
      event_id: 'evt_client_2',
      item: { type: 'message', role: 'user' },
    } as Record<string, unknown>);
    const e3 = await c.waitFor('error', (e) => e.error.event_id === 'evt_client_2');
    expect(e3.error).toMatchObject({ code: 'missing_required_parameter', param: 'item.content' });
    c.send({ type: 'input_audio_buffer.commit', event_id: 'evt_client_3' });
    const e4 = await c.waitFor('error', (e) => e.error.event_id === 'evt_client_3');
    expect(e4.error.code).toBe('input_audio_buffer_commit_empty');
    c.send({ type: 'session.update', event_id: 'evt_client_4', session: { instructions: 'x' } } as Record<
      string,
      unknown
    >);
    const e5 = await c.waitFor('error', (e) => e.error.event_id === 'evt_client_4');
    expect(e5.error).toMatchObject({ code: 'missing_required_parameter', param: 'session.type' });
    c.close();
  });

  it('refuses a WebSocket without a valid key', async () => {
    await expect(RawClient.open(wsUrl(emu.url, 'model=gpt-realtime'), { 'api-key': 'nope' })).rejects.toMatchObject({
      status: 401,
    });
  });
});

describe('the openai package against the emulator', () => {
  it('opens an Azure-style realtime WebSocket with AzureOpenAI (api-version + deployment)', async () => {
    const { AzureOpenAI } = await import('openai');
    const client = new AzureOpenAI({
      apiKey: KEY,
      endpoint: emu.url,
      apiVersion: '2025-04-01-preview',
      deployment: 'gpt-realtime',
    });
    const rt = await OpenAIRealtimeWS.azure(client, { options: { createConnection: netConnect as never } });
    const created = await new Promise<RealtimeServerEvent>((resolve, reject) => {
      rt.on('session.created', resolve);
      rt.socket.once('error', reject);
    });
    // openai 7 speaks Azure's GA v1 path (the preview `/openai/realtime?api-version` path is gone)
    expect(rt.url.pathname).toBe('/openai/v1/realtime');
    expect(created.type === 'session.created' && created.session).toMatchObject({
      type: 'realtime',
      model: 'gpt-realtime',
    });
    rt.close();
  });

  it("serves chat completions on the profile's path only", async () => {
    for (const baseURL of [`${emu.url}/openai/v1`]) {
      const client = new OpenAI({ apiKey: KEY, baseURL });
      const res = await client.chat.completions.create({
        model: 'gpt-4.1-mini',
        messages: [
          { role: 'system', content: 'Summarize.' },
          { role: 'user', content: 'user: My order 1234 is late.' },
        ],
      });
      expect(res.choices[0]?.message.content).toBe('The user said: My order 1234 is late.');
    }
    const bad = new OpenAI({ apiKey: 'wrong', baseURL: `${emu.url}/openai/v1`, maxRetries: 0 });
    await expect(
      bad.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 401 });
    const openaiPath = new OpenAI({ apiKey: KEY, baseURL: `${emu.url}/v1`, maxRetries: 0 });
    await expect(
      openaiPath.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    ).rejects.toMatchObject({ status: 404 });
  });
});
