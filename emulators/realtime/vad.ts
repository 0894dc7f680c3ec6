import { msOf, RATE, rms } from './audio';

export interface VadSettings {
  /** The session's `threshold` (0..1); mapped to an RMS level, see `levelFor`. */
  threshold: number;
  prefixPaddingMs: number;
  silenceDurationMs: number;
}

const FRAME = RATE / 100; // 10 ms
/** Consecutive loud frames before speech counts as started: a click is not a turn. */
const ONSET_FRAMES = 3;

/**
 * The real service's VAD threshold is a model probability; here it is an energy gate. 0.5 (the default)
 * maps to an RMS of ~0.02 (-34 dBFS): quiet room noise stays below, normal speech (~0.1 RMS) is well above.
 */
export const levelFor = (threshold: number) => 0.002 + 0.036 * Math.min(1, Math.max(0, threshold));

export type VadEvent =
  { type: 'speech_started'; audioStartMs: number } | { type: 'speech_stopped'; audioEndMs: number };

/** Server VAD on PCM energy. Positions are milliseconds of audio received since the session started. */
export class EnergyVad {
  private pending = new Int16Array(0);
  private processedSamples = 0;
  private loudRun = 0;
  private quietMs = 0;
  private speaking = false;
  private lastLoudEndMs = 0;

  constructor(private settings: VadSettings) {}

  update(settings: VadSettings): void {
    this.settings = settings;
  }

  get inSpeech(): boolean {
    return this.speaking;
  }

  push(pcm: Int16Array): VadEvent[] {
    const events: VadEvent[] = [];
    const buf = new Int16Array(this.pending.length + pcm.length);
    buf.set(this.pending);
    buf.set(pcm, this.pending.length);
    const level = levelFor(this.settings.threshold);
    let off = 0;
    for (; off + FRAME <= buf.length; off += FRAME) {
      const loud = rms(buf, off, off + FRAME) >= level;
      this.processedSamples += FRAME;
      const nowMs = msOf(this.processedSamples);
      if (loud) {
        this.loudRun++;
        this.quietMs = 0;
        this.lastLoudEndMs = nowMs;
        if (!this.speaking && this.loudRun >= ONSET_FRAMES) {
          this.speaking = true;
          const onset = nowMs - ONSET_FRAMES * 10;
          events.push({ type: 'speech_started', audioStartMs: Math.max(0, onset - this.settings.prefixPaddingMs) });
        }
      } else {
        this.loudRun = 0;
        if (this.speaking) {
          this.quietMs += 10;
          if (this.quietMs >= this.settings.silenceDurationMs) {
            this.speaking = false;
            this.quietMs = 0;
            events.push({ type: 'speech_stopped', audioEndMs: this.lastLoudEndMs });
          }
        }
      }
    }
    this.pending = buf.slice(off);
    return events;
  }

  reset(): void {
    this.speaking = false;
    this.loudRun = 0;
    this.quietMs = 0;
  }
}
