import { spawn, spawnSync } from 'node:child_process';
import { parseWav, RATE, resample } from './audio';

/** espeak-ng voices standing in for the service's voices, so a voice change is audible. */
const VOICES: Record<string, string> = {
  alloy: 'en-us',
  ash: 'en-us+m3',
  ballad: 'en-gb+m2',
  coral: 'en-us+f2',
  echo: 'en-us+m1',
  sage: 'en-gb+f3',
  shimmer: 'en-us+f4',
  verse: 'en-us+m4',
  marin: 'en-us+f1',
  cedar: 'en-us+m7',
};

let espeakChecked: boolean | undefined;
export function espeakAvailable(): boolean {
  if (espeakChecked === undefined) {
    const r = spawnSync('espeak-ng', ['--version'], { stdio: 'ignore' });
    espeakChecked = r.status === 0;
  }
  return espeakChecked;
}

/** Runs espeak-ng and returns PCM16 at 24 kHz. `voice` is an espeak voice name. */
export function espeak(text: string, opts: { voice?: string; wordsPerMinute?: number } = {}): Promise<Int16Array> {
  return new Promise((resolve, reject) => {
    const args = ['--stdout', '-v', opts.voice ?? 'en-us', '-s', String(opts.wordsPerMinute ?? 175), '--', text];
    const child = spawn('espeak-ng', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`espeak-ng exited ${code}: ${err.trim()}`));
      try {
        const { pcm, rate } = parseWav(Buffer.concat(chunks));
        resolve(resample(pcm, rate, RATE));
      } catch (e) {
        reject(e);
      }
    });
  });
}

/**
 * A tone pattern in place of speech when espeak-ng is missing: one 880/660 Hz beep per word, so it is
 * obviously not a voice but still has the length and rhythm of the text.
 */
export function toneFor(text: string): Int16Array {
  const words = Math.max(1, text.split(/\s+/).filter(Boolean).length);
  const beep = Math.round(RATE * 0.15);
  const gap = Math.round(RATE * 0.05);
  const out = new Int16Array(words * (beep + gap));
  for (let w = 0; w < words; w++) {
    const f = w % 2 ? 660 : 880;
    for (let i = 0; i < beep; i++)
      out[w * (beep + gap) + i] = Math.round(0.3 * 32767 * Math.sin((2 * Math.PI * f * i) / RATE));
  }
  return out;
}

/** Assistant speech with a cache by (voice, text) and at most `concurrency` espeak-ng processes at a time. */
export class Speech {
  private readonly cache = new Map<string, Promise<Int16Array>>();
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(private readonly opts: { useEspeak?: boolean; concurrency?: number; maxEntries?: number } = {}) {}

  get engine(): 'espeak-ng' | 'tone' {
    return (this.opts.useEspeak ?? true) && espeakAvailable() ? 'espeak-ng' : 'tone';
  }

  synthesize(text: string, voice = 'alloy'): Promise<Int16Array> {
    const key = `${voice}\u0000${text}`;
    const hit = this.cache.get(key);
    if (hit) {
      this.cache.delete(key); // refresh LRU position
      this.cache.set(key, hit);
      return hit;
    }
    const p =
      this.engine === 'tone'
        ? Promise.resolve(toneFor(text))
        : this.limited(() => espeak(text, { voice: VOICES[voice] ?? 'en-us' }));
    const guarded = p.catch(() => toneFor(text));
    this.cache.set(key, guarded);
    const max = this.opts.maxEntries ?? 500;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value!);
    return guarded;
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    const limit = this.opts.concurrency ?? 2;
    if (this.running >= limit) await new Promise<void>((r) => this.queue.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }
}
