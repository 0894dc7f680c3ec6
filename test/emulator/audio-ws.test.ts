import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealtimeSessionCreateRequest } from 'openai/resources/realtime/realtime';
import { pcmToBase64 } from '../../emulators/realtime/audio';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { espeak, toneFor } from '../../emulators/realtime/tts';
import { RawClient, wsUrl } from './helpers';

const KEY = 'server-key';
let emu: RealtimeEmulator;

beforeAll(async () => {
  emu = await startRealtimeEmulator({ apiKeys: [KEY] });
  await emu.ready();
});
afterAll(async () => {
  await emu?.stop();
});

const concierge: RealtimeSessionCreateRequest = {
  type: 'realtime',
  instructions: 'You are a hotel concierge.',
  tools: [
    {
      type: 'function',
      name: 'concierge__get_time',
      parameters: { type: 'object', properties: { timezone: { type: 'string' } } },
    },
    {
      type: 'function',
      name: 'concierge__get_weather',
      parameters: { type: 'object', properties: { city: { type: 'string' } } },
    },
  ],
  audio: {
    input: { transcription: { model: 'whisper-1' }, turn_detection: { type: 'server_vad', silence_duration_ms: 300 } },
  },
};

/** Streams PCM as the service's clients do: 100 ms appends. */
function stream(c: RawClient, pcm: Int16Array): void {
  for (let i = 0; i < pcm.length; i += 2400)
    c.send({ type: 'input_audio_buffer.append', audio: pcmToBase64(pcm.subarray(i, i + 2400)) });
}

describe('audio over a direct WebSocket session', () => {
  it('runs server VAD on appended PCM16 and answers a spoken request with a tool call', async () => {
    const c = await RawClient.open(wsUrl(emu.url, 'model=gpt-realtime'), { 'api-key': KEY });
    c.send({ type: 'session.update', session: concierge });
    await c.waitFor('session.updated');
    stream(
      c,
      new Int16Array([
        ...new Int16Array(2400),
        ...(await espeak('what is the weather in paris')),
        ...new Int16Array(12_000),
      ]),
    );
    const started = await c.waitFor('input_audio_buffer.speech_started');
    const stopped = await c.waitFor('input_audio_buffer.speech_stopped');
    expect(started.audio_start_ms).toBeLessThan(200);
    expect(stopped.audio_end_ms).toBeGreaterThan(1000);
    expect((await c.waitFor('input_audio_buffer.committed')).item_id).toBe(started.item_id);
    expect((await c.waitFor('conversation.item.input_audio_transcription.completed')).transcript).toBe(
      'what is the weather in paris',
    );
    const call = await c.waitFor('response.function_call_arguments.done');
    expect(call.name).toBe('concierge__get_weather');
    expect(JSON.parse(call.arguments)).toEqual({ city: 'paris' });
    c.close();
  });

  it('transcribes sound it cannot place as [inaudible] and falls back', async () => {
    const c = await RawClient.open(wsUrl(emu.url, 'model=gpt-realtime'), { 'api-key': KEY });
    c.send({
      type: 'session.update',
      session: {
        ...concierge,
        output_modalities: ['text'],
        audio: { input: { transcription: { model: 'whisper-1' }, turn_detection: null } },
      },
    });
    await c.waitFor('session.updated');
    stream(c, toneFor('a b c d e f'));
    c.send({ type: 'input_audio_buffer.commit' });
    expect((await c.waitFor('conversation.item.input_audio_transcription.completed')).transcript).toBe('[inaudible]');
    expect(c.types()).not.toContain('input_audio_buffer.speech_started'); // turn detection is off
    c.send({ type: 'response.create' });
    const text = await c.waitFor('response.output_text.done');
    expect(text.text).toMatch(/didn't catch/);
    c.close();
  });

  it('speaks assistant audio as PCM16 deltas, acknowledges images, and cancels on request', async () => {
    const c = await RawClient.open(wsUrl(emu.url, 'model=gpt-realtime'), { 'api-key': KEY });
    c.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: null } } } });
    await c.waitFor('session.updated');
    c.send({
      type: 'conversation.item.create',
      item: {
        type: 'message',
        role: 'user',
        content: [
          { type: 'input_text', text: 'what is in this picture?' },
          { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=' },
        ],
      },
    });
    c.send({ type: 'response.create' });
    const said = await c.waitFor('response.output_audio_transcript.done');
    expect(said.transcript).toMatch(/^I received your image\./);
    const deltas = c.events.filter((e) => e.type === 'response.output_audio.delta');
    const bytes = deltas.reduce(
      (n, e) => n + Buffer.from(e.type === 'response.output_audio.delta' ? e.delta : '', 'base64').length,
      0,
    );
    expect(bytes / 2 / 24_000).toBeGreaterThan(1); // over a second of 24 kHz PCM16 speech
    const done = await c.waitFor('response.done');
    expect(done.response.usage?.input_token_details?.image_tokens).toBe(85);
    expect(done.response.usage?.output_token_details?.audio_tokens).toBeGreaterThan(0);

    const mark = c.events.length;
    c.send({
      type: 'conversation.item.create',
      item: {
        type: 'message',
        role: 'user',
        content: [
          { type: 'input_text', text: 'please open a ticket, my parcel arrived broken and I would like a replacement' },
        ],
      },
    });
    c.send({ type: 'response.create' });
    await c.waitFor('response.created', undefined, { from: mark });
    c.send({ type: 'response.cancel' });
    const cancelled = await c.waitFor('response.done', undefined, { from: mark });
    expect(cancelled.response.status).toBe('cancelled');
    expect(cancelled.response.status_details).toMatchObject({ type: 'cancelled', reason: 'client_cancelled' });
    c.send({ type: 'response.cancel', event_id: 'x1' });
    expect((await c.waitFor('error', (e) => e.error.event_id === 'x1')).error.code).toBe('response_cancel_not_active');
    c.close();
  });
});

describe('a SIP caller speaking', () => {
  it('is heard by the accepted call: VAD, recognition and a tool call reach the sideband', async () => {
    const { callId } = await emu.simulateIncomingSipCall({
      from: 'sip:+15550001@pstn.example',
      to: 'sip:+18005550100@trunk.example',
    });
    const accept = await fetch(`${emu.url}/openai/v1/realtime/calls/${callId}/accept`, {
      method: 'POST',
      headers: { 'api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ ...concierge, model: 'gpt-realtime', output_modalities: ['text'] }),
    });
    // The Calls API refuses turn-detection tuning at accept…
    expect(accept.status).toBe(400);
    expect(((await accept.json()) as { error: { message: string } }).error.message).toBe(
      "Unknown parameter: 'session.audio.input.turn_detection.silence_duration_ms'.",
    );
    const untuned = { ...concierge.audio!.input, turn_detection: { type: 'server_vad' as const } };
    const accepted = await fetch(`${emu.url}/openai/v1/realtime/calls/${callId}/accept`, {
      method: 'POST',
      headers: { 'api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({
        ...concierge,
        model: 'gpt-realtime',
        output_modalities: ['text'],
        audio: { input: untuned },
      }),
    });
    expect(accepted.status).toBe(200);
    // …and takes it over the sideband once attached.
    const side = await RawClient.open(wsUrl(emu.url, `call_id=${callId}`), { 'api-key': KEY });
    await side.waitFor('session.created');
    side.send({ type: 'session.update', session: { type: 'realtime', audio: concierge.audio } });
    expect((await side.waitFor('session.updated')).session.audio?.input?.turn_detection).toMatchObject({
      silence_duration_ms: 300,
    });
    const res = await fetch(`${emu.url}/_emulator/calls/${callId}/speak`, {
      method: 'POST',
      body: JSON.stringify({ text: 'what time is it' }),
    });
    expect(res.status).toBe(202);
    expect((await side.waitFor('conversation.item.input_audio_transcription.completed')).transcript).toBe(
      'what time is it',
    );
    const call = await side.waitFor('response.function_call_arguments.done');
    expect(call.name).toBe('concierge__get_time');
    expect(
      (
        await fetch(`${emu.url}/_emulator/calls/rtc_missing/speak`, {
          method: 'POST',
          body: JSON.stringify({ text: 'hi', realTime: true }),
        })
      ).status,
    ).toBe(404);
    side.close();
  });
});

describe('conversation items', () => {
  it('retrieves, deletes and truncates items', async () => {
    const c = await RawClient.open(wsUrl(emu.url, 'model=gpt-realtime'), { 'api-key': KEY });
    c.send({ type: 'session.update', session: { type: 'realtime', audio: { input: { turn_detection: null } } } });
    c.send({
      type: 'conversation.item.create',
      item: { id: 'msg_a', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] },
    });
    c.send({
      type: 'conversation.item.create',
      previous_item_id: 'root',
      item: {
        id: 'msg_0',
        type: 'message',
        role: 'system',
        content: [{ type: 'input_text', text: 'Remember: the user is Ana.' }],
      },
    });
    const added = await c.waitFor('conversation.item.added', (e) => e.item.id === 'msg_0');
    expect(added.previous_item_id).toBeNull();
    c.send({ type: 'conversation.item.retrieve', item_id: 'msg_a' });
    expect((await c.waitFor('conversation.item.retrieved')).item).toMatchObject({ id: 'msg_a', role: 'user' });
    c.send({ type: 'conversation.item.delete', item_id: 'msg_0' });
    expect((await c.waitFor('conversation.item.deleted')).item_id).toBe('msg_0');

    c.send({ type: 'response.create' });
    const done = await c.waitFor('response.done');
    const assistant = done.response.output![0]!;
    c.send({ type: 'conversation.item.truncate', item_id: assistant.id!, content_index: 0, audio_end_ms: 300 });
    expect(await c.waitFor('conversation.item.truncated')).toMatchObject({ item_id: assistant.id, audio_end_ms: 300 });
    c.send({
      type: 'conversation.item.truncate',
      event_id: 't2',
      item_id: assistant.id!,
      content_index: 0,
      audio_end_ms: 600_000,
    });
    expect((await c.waitFor('error', (e) => e.error.event_id === 't2')).error.param).toBe('audio_end_ms');
    c.send({ type: 'conversation.item.truncate', event_id: 't3', item_id: 'msg_a', content_index: 0, audio_end_ms: 0 });
    expect((await c.waitFor('error', (e) => e.error.event_id === 't3')).error.code).toBe(
      'item_truncate_invalid_item_id',
    );
    c.close();
  });
});
