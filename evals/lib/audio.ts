import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** 24 kHz PCM16 mono: what the Realtime API takes as `audio/pcm`. */
export const RATE = 24_000;

export interface SpeechSpec {
  /** espeak-ng voice, e.g. `en-us`, `en-gb`, `en-us+f2`. */
  voice: string;
  /** Words per minute (espeak-ng `-s`; its default is 175). */
  wpm: number;
  /** White-noise amplitude mixed in by sox (0 = clean; 0.01 is a quiet room, 0.05 a noisy one). */
  noise: number;
}

export const DEFAULT_SPEECH: SpeechSpec = { voice: 'en-us', wpm: 175, noise: 0 };

const CACHE_DIR = join(tmpdir(), 'voice-evals-audio');

function run(cmd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e) => reject(new Error(`${cmd} could not start (${e.message}); install espeak-ng and sox`)));
    child.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new Error(`${cmd} exited ${code}: ${err.trim().slice(0, 300)}`)),
    );
  });
}

/**
 * Speaks `text` with espeak-ng and returns 24 kHz PCM16 mono; sox resamples and, when `noise` > 0, mixes in
 * white noise (a fixed seed) over the utterance. Results are cached on disk by (text, voice, speed, noise):
 * the same suite re-runs without re-synthesizing.
 */
export async function synthesize(text: string, spec: SpeechSpec = DEFAULT_SPEECH): Promise<Int16Array> {
  const key = createHash('sha256')
    .update(JSON.stringify([text, spec.voice, spec.wpm, spec.noise]))
    .digest('hex')
    .slice(0, 24);
  const cached = join(CACHE_DIR, `${key}.pcm`);
  try {
    return toInt16(await readFile(cached));
  } catch {
    // not cached yet
  }
  await mkdir(CACHE_DIR, { recursive: true });
  const work = join(CACHE_DIR, `${key}.${process.pid}.${Date.now()}`);
  const spoken = `${work}.speech.wav`;
  const noise = `${work}.noise.wav`;
  try {
    await run('espeak-ng', ['-v', spec.voice, '-s', String(spec.wpm), '-w', spoken, '--', text]);
    const rawOut = ['-t', 'raw', '-r', String(RATE), '-c', '1', '-b', '16', '-e', 'signed-integer', '-L', '-'];
    let pcm: Buffer;
    if (spec.noise > 0) {
      // Noise file as long as the speech, same format, then mixed (-m) and resampled to 24 kHz raw.
      const info = (await run('sox', ['--i', '-D', spoken])).toString().trim();
      const rate = (await run('sox', ['--i', '-r', spoken])).toString().trim();
      // -R: sox's repeatable mode (fixed seed), so a scenario hears the same noise on every run and machine.
      await run('sox', [
        '-R',
        '-n',
        '-r',
        rate,
        '-c',
        '1',
        '-b',
        '16',
        noise,
        'synth',
        info,
        'whitenoise',
        'vol',
        String(spec.noise),
      ]);
      // -v 1 on both inputs: sox -m would otherwise halve the speech to make room for the noise.
      pcm = await run('sox', ['-m', '-v', '1', spoken, '-v', '1', noise, ...rawOut]);
    } else {
      pcm = await run('sox', [spoken, ...rawOut]);
    }
    await writeFile(`${work}.pcm`, pcm);
    await rename(`${work}.pcm`, cached);
    return toInt16(pcm);
  } finally {
    await Promise.all([rm(spoken, { force: true }), rm(noise, { force: true })]);
  }
}

function toInt16(buf: Buffer): Int16Array {
  const copy = new Int16Array(Math.floor(buf.byteLength / 2));
  for (let i = 0; i < copy.length; i++) copy[i] = buf.readInt16LE(i * 2);
  return copy;
}

export const silence = (ms: number) => new Int16Array(Math.round((RATE * ms) / 1000));

export function concat(...parts: Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const toBase64 = (pcm: Int16Array) => Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64');

/** Duration of PCM in ms. */
export const durationMs = (pcm: Int16Array) => Math.round((pcm.length / RATE) * 1000);
