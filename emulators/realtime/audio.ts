/** PCM16 helpers. Everything inside the emulator is mono PCM16 at 24 kHz, the Realtime API's `audio/pcm`. */
export const RATE = 24_000;

export function base64ToPcm(b64: string): Int16Array {
  const buf = Buffer.from(b64, 'base64');
  const out = new Int16Array(buf.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(i * 2);
  return out;
}

export function pcmToBase64(pcm: Int16Array): string {
  return pcmToBuffer(pcm).toString('base64');
}

export function pcmToBuffer(pcm: Int16Array): Buffer {
  const buf = Buffer.alloc(pcm.length * 2);
  for (let i = 0; i < pcm.length; i++) buf.writeInt16LE(pcm[i]!, i * 2);
  return buf;
}

export function bufferToPcm(buf: Buffer): Int16Array {
  const out = new Int16Array(buf.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(i * 2);
  return out;
}

/** Linear-interpolation resampler: good enough for speech features and for espeak's 22.05 kHz output. */
export function resample(pcm: Int16Array, from: number, to: number): Int16Array {
  if (from === to || pcm.length === 0) return pcm;
  const outLen = Math.max(1, Math.round((pcm.length * to) / from));
  const out = new Int16Array(outLen);
  const step = from / to;
  for (let i = 0; i < outLen; i++) {
    const pos = i * step;
    const i0 = Math.floor(pos);
    const frac = pos - i0;
    const a = pcm[Math.min(i0, pcm.length - 1)]!;
    const b = pcm[Math.min(i0 + 1, pcm.length - 1)]!;
    out[i] = Math.round(a + (b - a) * frac);
  }
  return out;
}

export function concatPcm(chunks: Int16Array[]): Int16Array {
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Int16Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Root-mean-square level in [0, 1]. */
export function rms(pcm: Int16Array, start = 0, end = pcm.length): number {
  if (end <= start) return 0;
  let sum = 0;
  for (let i = start; i < end; i++) {
    const v = pcm[i]! / 32768;
    sum += v * v;
  }
  return Math.sqrt(sum / (end - start));
}

export const msOf = (samples: number, rate = RATE) => Math.round((samples * 1000) / rate);

/** G.711 µ-law / A-law byte → linear PCM16 (ITU-T G.711), for `audio/pcmu` and `audio/pcma` input. */
export function decodeG711(bytes: Buffer, law: 'pcmu' | 'pcma'): Int16Array {
  const out = new Int16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = law === 'pcmu' ? ulaw(bytes[i]!) : alaw(bytes[i]!);
  return out;
}

function ulaw(u: number): number {
  u = ~u & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const sample = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return sign ? -sample : sample;
}

function alaw(a: number): number {
  a ^= 0x55;
  const sign = a & 0x80;
  const exponent = (a >> 4) & 0x07;
  const mantissa = a & 0x0f;
  const sample = exponent === 0 ? (mantissa << 4) + 8 : ((mantissa << 4) + 0x108) << (exponent - 1);
  return sign ? sample : -sample;
}

/** Parses a PCM16 WAV (as espeak-ng writes it) into samples and rate. */
export function parseWav(buf: Buffer): { pcm: Int16Array; rate: number } {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE')
    throw new Error('not a WAV file');
  let off = 12;
  let rate = 0;
  let channels = 1;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    let size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(body + 2);
      rate = buf.readUInt32LE(body + 4);
    } else if (id === 'data') {
      // espeak-ng writing to a pipe cannot seek back, so the data size may be 0 or 0xFFFFFFFF: read to the end.
      if (size === 0 || body + size > buf.length) size = buf.length - body;
      const frames = Math.floor(size / 2 / channels);
      const pcm = new Int16Array(frames);
      for (let i = 0; i < frames; i++) pcm[i] = buf.readInt16LE(body + i * 2 * channels);
      return { pcm, rate };
    }
    off = body + size + (size & 1);
  }
  throw new Error('WAV has no data chunk');
}
