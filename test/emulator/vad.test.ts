import { describe, expect, it } from 'vitest';
import { RATE } from '../../emulators/realtime/audio';
import { EnergyVad, type VadEvent } from '../../emulators/realtime/vad';

const tone = (ms: number, amp: number) =>
  Int16Array.from({ length: (RATE * ms) / 1000 }, (_, i) =>
    Math.round(amp * 32767 * Math.sin((2 * Math.PI * 220 * i) / RATE)),
  );
const silence = (ms: number) => new Int16Array((RATE * ms) / 1000);
const run = (vad: EnergyVad, ...parts: Int16Array[]) => parts.flatMap((p) => vad.push(p));

describe('energy VAD', () => {
  it('finds a turn and ends it after silence_duration_ms, with prefix padding', () => {
    const vad = new EnergyVad({ threshold: 0.5, prefixPaddingMs: 300, silenceDurationMs: 500 });
    const ev: VadEvent[] = run(vad, silence(1000), tone(800, 0.3), silence(400));
    expect(ev).toEqual([{ type: 'speech_started', audioStartMs: 700 }]);
    expect(run(vad, silence(200))).toEqual([{ type: 'speech_stopped', audioEndMs: 1800 }]);
  });

  it('keeps one turn across pauses shorter than silence_duration_ms', () => {
    const vad = new EnergyVad({ threshold: 0.5, prefixPaddingMs: 0, silenceDurationMs: 500 });
    const ev = run(vad, tone(300, 0.3), silence(300), tone(300, 0.3), silence(600));
    expect(ev.map((e) => e.type)).toEqual(['speech_started', 'speech_stopped']);
  });

  it('ignores sound under the threshold and single clicks', () => {
    const vad = new EnergyVad({ threshold: 0.5, prefixPaddingMs: 0, silenceDurationMs: 200 });
    expect(run(vad, tone(500, 0.01), tone(20, 0.5), silence(500))).toEqual([]);
    const strict = new EnergyVad({ threshold: 1, prefixPaddingMs: 0, silenceDurationMs: 200 });
    expect(run(strict, tone(500, 0.03))).toEqual([]);
  });
});
