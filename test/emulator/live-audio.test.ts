import { describe, expect, it } from 'vitest';
import type { SessionResource } from 'openai/resources/live/live';
import { decodeG711, pcmToBase64, resample } from '../../emulators/realtime/audio';
import { decodeInput, encodeOutput } from '../../emulators/realtime/live/audio-format';

const withFormat = (format: unknown) => ({ audio: { format } }) as unknown as SessionResource;
const sine = new Int16Array(2400).map((_, i) => Math.round(12_000 * Math.sin(i / 7)));

describe('Live primary WebSocket audio formats', () => {
  for (const law of ['pcmu', 'pcma'] as const) {
    it(`encodes G.711 ${law} that decodes back to the 8 kHz signal`, () => {
      const out = Buffer.from(
        encodeOutput(pcmToBase64(sine), withFormat({ type: `audio/${law}`, rate: 8000 })),
        'base64',
      );
      const expected = resample(sine, 24_000, 8000);
      expect(out.length).toBe(expected.length);
      const back = decodeG711(out, law);
      let err = 0;
      for (let i = 0; i < back.length; i++) err = Math.max(err, Math.abs(back[i]! - expected[i]!));
      // G.711 keeps about 3 % of the amplitude at this level.
      expect(err).toBeLessThan(600);
      // Input in the same format comes back to 24 kHz PCM.
      expect(decodeInput(out.toString('base64'), withFormat({ type: `audio/${law}`, rate: 8000 })).length).toBe(2400);
    });
  }

  it('passes 24 kHz PCM through and resamples 16 kHz', () => {
    const b64 = pcmToBase64(sine);
    expect(encodeOutput(b64, withFormat({ type: 'audio/pcm', rate: 24000 }))).toBe(b64);
    expect(Buffer.from(encodeOutput(b64, withFormat({ type: 'audio/pcm', rate: 16000 })), 'base64').length).toBe(3200);
  });
});
