import type { SessionResource } from 'openai/resources/live/live';
import { base64ToPcm, decodeG711, pcmToBase64, RATE, resample } from '../audio';

type Format = { type?: string; rate?: number } | undefined;

const formatOf = (resource: SessionResource): Format => (resource.audio as { format?: Format } | undefined)?.format;

/** Primary-WebSocket input in the startup format, as the engine's PCM16 at 24 kHz. */
export function decodeInput(b64: string, resource: SessionResource): Int16Array {
  const f = formatOf(resource);
  if (f?.type === 'audio/pcmu' || f?.type === 'audio/pcma')
    return resample(decodeG711(Buffer.from(b64, 'base64'), f.type === 'audio/pcmu' ? 'pcmu' : 'pcma'), 8000, RATE);
  const pcm = base64ToPcm(b64);
  return f?.rate === 16000 ? resample(pcm, 16000, RATE) : pcm;
}

/** Engine output (PCM16 24 kHz, base64) in the primary WebSocket's startup format. */
export function encodeOutput(b64: string, resource: SessionResource): string {
  const f = formatOf(resource);
  if (!f || (f.type === 'audio/pcm' && f.rate !== 16000)) return b64;
  const pcm = base64ToPcm(b64);
  if (f.type === 'audio/pcm') return pcmToBase64(resample(pcm, RATE, 16000));
  const narrow = resample(pcm, RATE, 8000);
  const out = Buffer.alloc(narrow.length);
  for (let i = 0; i < narrow.length; i++) out[i] = f.type === 'audio/pcmu' ? muLaw(narrow[i]!) : aLaw(narrow[i]!);
  return out.toString('base64');
}

/** G.711 μ-law (ITU-T G.711, the usual segment encoder). */
function muLaw(sample: number): number {
  const BIAS = 0x84;
  let s = Math.max(-32635, Math.min(32635, sample));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** G.711 A-law. */
function aLaw(sample: number): number {
  let s = Math.max(-32767, Math.min(32767, sample));
  const sign = s >= 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  let out: number;
  if (s < 256) out = s >> 4;
  else {
    let exponent = 7;
    for (let mask = 0x4000; (s & mask) === 0 && exponent > 1; mask >>= 1) exponent--;
    out = (exponent << 4) | ((s >> (exponent + 3)) & 0x0f);
  }
  return (out | sign) ^ 0x55;
}
