import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { RawClient, wsUrl } from '../emulator/helpers';

/**
 * 10,000 generated client events on one realtime WebSocket: malformed ones must be answered with GA `error`
 * events, the connection must stay open and the session must still answer a normal turn afterwards.
 */
const RUNS = 10_000;
const CLIENT_TYPES = [
  'session.update',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'conversation.item.create',
  'conversation.item.retrieve',
  'conversation.item.truncate',
  'conversation.item.delete',
  'response.create',
  'response.cancel',
  'output_audio_buffer.clear',
  'no.such.event',
  '',
];

const text = fc.string({ maxLength: 30 });
const event = fc.oneof(
  // Not JSON at all, or JSON that is not an object.
  fc.string({ maxLength: 60 }),
  fc.json({ maxDepth: 2 }),
  // Client event types with random, mostly wrong, fields (never a valid response.create: responses are slow).
  fc
    .record(
      {
        type: fc.constantFrom(...CLIENT_TYPES.filter((t) => t !== 'response.create')),
        event_id: fc.oneof(text, fc.integer()),
        item: fc.oneof(
          fc.anything({ maxDepth: 2 }),
          fc.record({
            type: fc.constantFrom('message', 'function_call_output', 'x'),
            role: text,
            content: fc.anything({ maxDepth: 1 }),
          }),
        ),
        audio: fc.oneof(fc.base64String({ maxLength: 40 }), text, fc.integer()),
        item_id: text,
        content_index: fc.oneof(fc.integer(), text),
        audio_end_ms: fc.oneof(fc.integer(), text),
        session: fc.anything({ maxDepth: 2 }),
      },
      { requiredKeys: ['type'] },
    )
    .map((o) => JSON.stringify(o)),
);

describe('fuzz: realtime emulator client events', () => {
  let emulator: RealtimeEmulator;
  beforeAll(async () => {
    emulator = await startRealtimeEmulator({ useEspeak: false });
  });
  afterAll(async () => emulator?.stop());

  it(`answers ${RUNS} generated events without dropping the connection`, async () => {
    const client = await RawClient.open(wsUrl(emulator.url, 'model=gpt-realtime'), { 'api-key': 'emulator-dev-key' });
    await client.waitFor('session.created');
    // Text only: keeps the stress on event handling, not on synthesizing audio.
    client.send({ type: 'session.update', session: { type: 'realtime', output_modalities: ['text'] } });
    await client.waitFor('session.updated');
    const samples = fc.sample(event, { numRuns: RUNS, seed: 20261127 });
    for (const s of samples) client.sendRaw(s);
    // A marker that must come back after every fuzzed event has been processed (the socket is ordered).
    client.send({ type: 'conversation.item.retrieve', item_id: 'item_does_not_exist_marker', event_id: 'evt_marker' });
    await client.waitFor('error', (e) => e.error.event_id === 'evt_marker', { timeoutMs: 60_000 });
    expect(client.closed).toBeUndefined();

    const errors = client.events.filter((e) => e.type === 'error');
    expect(errors.length).toBeGreaterThan(RUNS / 4);
    for (const e of errors) {
      expect(e).toMatchObject({
        type: 'error',
        event_id: expect.any(String),
        error: { type: expect.any(String), message: expect.any(String) },
      });
    }
    const unknown = errors.filter((e) => e.error.code === 'invalid_event' || /unknown|invalid/i.test(e.error.message));
    expect(unknown.length).toBeGreaterThan(0);

    // Still a working session: a normal text turn gets an answer.
    const from = client.events.length;
    client.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] },
    });
    client.send({ type: 'response.create' });
    const done = await client.waitFor('response.done', () => true, { from, timeoutMs: 20_000 });
    expect(done.response.status).toBe('completed');
    client.close();
  }, 120_000);
});
