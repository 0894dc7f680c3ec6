import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';

const KEY = 'vl-key';
let emu: RealtimeEmulator;
beforeAll(async () => {
  emu = await startRealtimeEmulator({ profile: 'voice-live', apiKeys: [KEY], useEspeak: false });
});
afterAll(async () => emu?.stop());

type Ev = Record<string, unknown> & { type: string };
const url = (q: string) => `${emu.url.replace(/^http/, 'ws')}/voice-live/realtime?${q}`;
/** A JWT with the given claims (unsigned: the emulator checks audience and expiry only). */
const jwt = (claims: Record<string, unknown>) =>
  ['{"alg":"none"}', JSON.stringify(claims)].map((p) => Buffer.from(p).toString('base64url')).join('.') + '.sig';

function open(q: string, headers: Record<string, string>): Promise<{ ws: WebSocket; events: Ev[]; status?: number }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url(q), { headers });
    const events: Ev[] = [];
    ws.on('message', (d) => events.push(JSON.parse(d.toString()) as Ev));
    ws.on('open', () => resolve({ ws, events }));
    ws.on('unexpected-response', (_r, res) => (res.resume(), resolve({ ws, events, status: res.statusCode })));
    ws.on('error', () => undefined);
  });
}
async function waitFor(events: Ev[], type: string, pred: (e: Ev) => boolean = () => true): Promise<Ev> {
  await expect.poll(() => events.find((e) => e.type === type && pred(e)), { timeout: 10_000 }).toBeTruthy();
  return events.find((e) => e.type === type && pred(e))!;
}

describe('voice-live profile', () => {
  it('serves /voice-live/realtime only, with api-version 2025-10-01+ and a model, for api-key or Entra', async () => {
    const ok = 'api-version=2025-10-01&model=gpt-realtime';
    expect((await open('model=gpt-realtime', { 'api-key': KEY })).status).toBe(400);
    expect((await open('api-version=2025-05-01-preview&model=gpt-realtime', { 'api-key': KEY })).status).toBe(400);
    expect((await open('api-version=2025-10-01', { 'api-key': KEY })).status).toBe(400);
    expect((await open(ok, {})).status).toBe(401);
    const future = Math.floor(Date.now() / 1000) + 600;
    for (const aud of ['https://ai.azure.com', 'https://cognitiveservices.azure.com']) {
      const c = await open(ok, { authorization: `Bearer ${jwt({ aud, exp: future })}` });
      expect(c.status).toBeUndefined();
      c.ws.close();
    }
    expect(
      (await open(ok, { authorization: `Bearer ${jwt({ aud: 'https://graph.microsoft.com', exp: future })}` })).status,
    ).toBe(401);
    expect((await open(ok, { authorization: `Bearer ${jwt({ aud: 'https://ai.azure.com', exp: 1 })}` })).status).toBe(
      401,
    );
    const q = await open(`${ok}&api-key=${KEY}`, {});
    expect(q.status).toBeUndefined();
    q.ws.close();
    // No GA REST surface: no client secrets, no calls.
    const res = await fetch(`${emu.url}/openai/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { 'api-key': KEY },
      body: '{}',
    });
    expect(res.status).toBe(404);
  });

  it('speaks the beta shape: flat session, Azure voice, response.text.* and a tool turn', async () => {
    const c = await open('api-version=2025-10-01&model=gpt-realtime', { 'api-key': KEY });
    const created = await waitFor(c.events, 'session.created');
    expect(created.session).toMatchObject({ model: 'gpt-realtime', input_audio_format: 'pcm16' });
    const voice = { type: 'azure-standard', name: 'en-US-Ava:DragonHDLatestNeural', temperature: 0.8 };
    c.ws.send(
      JSON.stringify({
        type: 'session.update',
        session: {
          modalities: ['text'],
          instructions: 'You are a support agent.',
          voice,
          input_audio_format: 'pcm16',
          turn_detection: { type: 'azure_semantic_vad', threshold: 0.4, remove_filler_words: true },
          input_audio_noise_reduction: { type: 'azure_deep_noise_suppression' },
          tools: [
            {
              type: 'function',
              name: 'get_order',
              parameters: { type: 'object', properties: { orderId: { type: 'string' } } },
            },
          ],
        },
      }),
    );
    const updated = await waitFor(c.events, 'session.updated');
    expect(updated.session).toMatchObject({
      modalities: ['text'],
      voice,
      turn_detection: { type: 'azure_semantic_vad', threshold: 0.4, remove_filler_words: true },
      input_audio_noise_reduction: { type: 'azure_deep_noise_suppression' },
    });
    expect(updated.session).not.toHaveProperty('audio');
    c.ws.send(
      JSON.stringify({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is my order 1234' }] },
      }),
    );
    c.ws.send(JSON.stringify({ type: 'response.create' }));
    const call = await waitFor(c.events, 'response.function_call_arguments.done');
    expect(call).toMatchObject({ name: 'get_order' });
    c.ws.send(
      JSON.stringify({
        type: 'conversation.item.create',
        item: { type: 'function_call_output', call_id: call.call_id, output: '{"status":"shipped"}' },
      }),
    );
    c.ws.send(JSON.stringify({ type: 'response.create' }));
    const text = await waitFor(c.events, 'response.text.done', (e) => String(e.text).includes('shipped'));
    expect(text.text).toBe('Order 1234 is shipped.');
    const types = c.events.map((e) => e.type);
    expect(types).toContain('conversation.item.created');
    expect(types).toContain('response.text.delta');
    for (const ga of ['conversation.item.added', 'conversation.item.done', 'response.output_text.delta'])
      expect(types).not.toContain(ga);
    const done = c.events.filter((e) => e.type === 'response.done').at(-1) as unknown as {
      response: Record<string, unknown>;
    };
    expect(done.response).toMatchObject({ modalities: ['text'], voice });
    // Client events Voice Live has but the emulator does not model get an error, the session goes on.
    c.ws.send(JSON.stringify({ type: 'session.avatar.connect', event_id: 'a1', client_sdp: 'v=0' }));
    await waitFor(c.events, 'error', (e) => (e.error as { event_id?: string }).event_id === 'a1');
    c.ws.close();
  });

  it('speaks audio as response.audio.delta and response.audio_transcript.*', async () => {
    const c = await open('api-version=2026-04-10&model=gpt-realtime', { 'api-key': KEY });
    await waitFor(c.events, 'session.created');
    c.ws.send(JSON.stringify({ type: 'session.update', session: { modalities: ['text', 'audio'], voice: 'alloy' } }));
    await waitFor(c.events, 'session.updated');
    c.ws.send(
      JSON.stringify({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] },
      }),
    );
    c.ws.send(JSON.stringify({ type: 'response.create', additional_instructions: 'Be brief.' }));
    await waitFor(c.events, 'response.done');
    const types = c.events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['response.audio.delta', 'response.audio_transcript.done']));
    const part = c.events.find((e) => e.type === 'response.content_part.added') as unknown as {
      part: { type: string };
    };
    expect(part.part.type).toBe('audio');
    c.ws.close();
  });
});
