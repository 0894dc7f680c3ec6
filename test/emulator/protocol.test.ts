import { describe, expect, it } from 'vitest';
import { parseClientEvent } from '../../emulators/realtime/protocol';
import { signWebhook } from '../../emulators/realtime/webhooks';

describe('client event parsing', () => {
  it('accepts GA client events', () => {
    expect(
      parseClientEvent(JSON.stringify({ type: 'response.create', response: { output_modalities: ['text'] } })),
    ).toMatchObject({ ok: true });
  });

  it.each([
    ['[1]', 'invalid_value', null],
    ['{"event_id":"e"}', 'missing_required_parameter', 'type'],
    [
      '{"type":"conversation.item.truncate","item_id":"i","content_index":-1,"audio_end_ms":0}',
      'invalid_value',
      'content_index',
    ],
    ['{"type":"input_audio_buffer.append"}', 'missing_required_parameter', 'audio'],
    [
      '{"type":"session.update","session":{"type":"realtime","audio":{"input":{"turn_detection":{"type":"server_vad","threshold":2}}}}}',
      'invalid_value',
      'session.audio.input.turn_detection.threshold',
    ],
    [
      '{"type":"response.create","response":{"output_modalities":["video"]}}',
      'invalid_value',
      'response.output_modalities.0',
    ],
  ])('answers %s with %s', (raw, code, param) => {
    const r = parseClientEvent(raw);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', code, param } });
  });
});

describe('webhook signatures', () => {
  it('match the Standard Webhooks reference vector', () => {
    expect(
      signWebhook(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });
});
