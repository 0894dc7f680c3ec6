import { describe, expect, it } from 'vitest';
import { createLogger } from '../../shared/telemetry/log';
import { redact, redactHeaders, redactString } from '../../shared/telemetry/redact';

const EK = 'ek_68af3c2b9d1e4f0a8b7c6d5e4f3a2b1c';
const WHSEC = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SK = 'sk-proj-abcdefghijklmnop1234567890';
const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJlLWJ5dGVz';

describe('redactString', () => {
  it.each([
    [`client secret ${EK} minted`, EK],
    [`signing with ${WHSEC}`, WHSEC],
    [`key ${SK}`, SK],
    [`Authorization: Bearer ${JWT}`, JWT],
    [`token ${JWT} rejected`, JWT],
    ['DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0a2V5PT0=;EndpointSuffix=x', 'c2VjcmV0a2V5PT0='],
    ['Endpoint=https://x.webpubsub.azure.com;AccessKey=QUJDREVGR0g=;Version=1.0', 'QUJDREVGR0g='],
    ['GET https://app/api/mcp?code=funckey123&x=1', 'funckey123'],
    ['request failed: api-key: 0123456789abcdef', '0123456789abcdef'],
    ['wss://x/realtime?api-key=0123456789abcdef', '0123456789abcdef'],
  ])('removes the secret from %s', (input, secret) => {
    const out = redactString(input);
    expect(out).not.toContain(secret);
    expect(out).toContain('[redacted]');
  });

  it('leaves ordinary text alone', () => {
    const text = 'order 1234 shipped; error code rate_limited; item_abc; session s-1';
    expect(redactString(text)).toBe(text);
  });
});

describe('redact', () => {
  it('removes secret-named fields, audio payloads and transcripts (by default)', () => {
    const input = {
      sessionId: 's-1',
      headers: { authorization: 'Bearer abc.def.ghi', 'content-type': 'application/json' },
      apiKey: 'plain-looking',
      WORKER_AUTH_SECRET: 'long-shared-secret-value',
      clientSecret: { value: EK, expires_at: 1 },
      event: { type: 'input_audio_buffer.append', audio: 'AAAAAAAAAAAA' },
      delta: { type: 'response.output_audio.delta', delta: 'UklGRg==' },
      said: { type: 'conversation.item.input_audio_transcription.completed', transcript: 'my card is 4111' },
      textDelta: { type: 'response.output_text.delta', delta: 'Your order' },
      content: [{ type: 'input_text', text: 'hello there' }],
      count: 3,
    };
    const out = redact(input);
    const json = JSON.stringify(out);
    for (const leaked of [
      'abc.def.ghi',
      'plain-looking',
      'long-shared-secret-value',
      EK,
      'AAAAAAAAAAAA',
      'UklGRg==',
      '4111',
      'Your order',
      'hello there',
    ]) {
      expect(json).not.toContain(leaked);
    }
    expect(out.sessionId).toBe('s-1');
    expect(out.count).toBe(3);
    expect(out.headers['content-type']).toBe('application/json');
    expect(out.event.audio).toBe('[audio 9 bytes]');
    expect(out.said.transcript).toBe('[transcript 15 chars]');
    expect(out.clientSecret).toBe('[redacted]');
    // The input is not mutated.
    expect(input.event.audio).toBe('AAAAAAAAAAAA');
  });

  it('keeps transcripts when LOG_TRANSCRIPTS is on, but still never audio or secrets', () => {
    const out = redact(
      { transcript: 'where is my order', audio: 'AAAA', text: `my key is ${EK}` },
      { logTranscripts: true },
    );
    expect(out.transcript).toBe('where is my order');
    expect(out.audio).toBe('[audio 3 bytes]');
    expect(out.text).not.toContain(EK);
  });

  it('survives cycles, binary data and errors', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    const out = redact({ a, buf: Buffer.from('secret bytes'), err: new Error(`failed with ${WHSEC}`) }) as Record<
      string,
      any
    >;
    expect(out.a.self).toBe('[cycle]');
    expect(out.buf).toBe('[binary 12 bytes]');
    expect(out.err.message).not.toContain(WHSEC);
  });

  it('redacts header maps by name', () => {
    const out = redactHeaders({
      'api-key': 'k',
      'webhook-signature': 'v1,abc',
      'x-worker-secret': 's',
      traceparent: '00-abc-def-01',
    });
    expect(out).toEqual({
      'api-key': '[redacted]',
      'webhook-signature': '[redacted]',
      'x-worker-secret': '[redacted]',
      traceparent: '00-abc-def-01',
    });
  });
});

describe('createLogger', () => {
  it('writes JSON lines with the session id and no secrets or transcripts', () => {
    const lines: string[] = [];
    const log = createLogger({ service: 'worker', sink: (_l, line) => lines.push(line) }).child({ sessionId: 's-42' });
    log.info(`minted ${EK}`, {
      event: { type: 'conversation.item.input_audio_transcription.completed', transcript: 'cancel my order' },
    });
    log.debug('not written at info level');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ level: 'info', service: 'worker', sessionId: 's-42' });
    expect(lines[0]).not.toContain(EK);
    expect(lines[0]).not.toContain('cancel my order');
  });

  it('includes transcripts when enabled', () => {
    const lines: string[] = [];
    const log = createLogger({ service: 'worker', logTranscripts: true, sink: (_l, line) => lines.push(line) });
    log.info('user said', { transcript: 'cancel my order' });
    expect(JSON.parse(lines[0]!).transcript).toBe('cancel my order');
  });
});
