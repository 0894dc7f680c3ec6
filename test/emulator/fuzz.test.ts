import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_EVENT_TYPES } from '../../emulators/realtime/protocol';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { RawClient, wsUrl } from './helpers';

const KEY = 'k';
let emu: RealtimeEmulator;
beforeAll(async () => {
  emu = await startRealtimeEmulator({ apiKeys: [KEY], useEspeak: false });
});
afterAll(async () => {
  await emu?.stop();
});

/** Client events with the right `type` and random (often wrong) fields, and random junk. */
const junkEvent = fc.oneof(
  fc
    .record(
      { type: fc.constantFrom(...CLIENT_EVENT_TYPES), event_id: fc.option(fc.string(), { nil: undefined }) },
      { requiredKeys: ['type'] },
    )
    .chain((base) =>
      fc
        .dictionary(
          fc.constantFrom(
            'item',
            'session',
            'audio',
            'item_id',
            'content_index',
            'audio_end_ms',
            'response',
            'previous_item_id',
          ),
          fc.jsonValue(),
          { maxKeys: 4 },
        )
        .map((extra) => JSON.stringify({ ...extra, ...base })),
    ),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
);

describe('robustness', () => {
  it('answers any junk with events or GA errors and keeps the session usable', async () => {
    const c = await RawClient.open(wsUrl(emu.url, 'model=gpt-realtime'), { 'api-key': KEY });
    await c.waitFor('session.created');
    await fc.assert(
      fc.asyncProperty(fc.array(junkEvent, { minLength: 1, maxLength: 20 }), async (batch) => {
        for (const raw of batch) c.sendRaw(raw);
        // A marker round trip proves every earlier message was handled without killing the socket.
        const id = `probe_${Math.random().toString(36).slice(2)}`;
        c.send({ type: 'conversation.item.retrieve', event_id: id, item_id: 'does-not-exist' });
        const err = await c.waitFor('error', (e) => e.error.event_id === id, { timeoutMs: 5000 });
        expect(err.error.code).toBe('item_retrieve_invalid_item_id');
        expect(c.closed).toBeUndefined();
      }),
      { numRuns: 60 },
    );
    for (const e of c.events) {
      expect(typeof e.type).toBe('string');
      if (e.type === 'error') expect(e.error).toMatchObject({ type: expect.any(String), message: expect.any(String) });
    }
    c.close();
  });
});
