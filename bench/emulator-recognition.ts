import OpusScript from 'opusscript';
import { espeak } from '../emulators/realtime/tts';
import { mfcc, dtw } from '../emulators/realtime/features';
const phrases = ['where is my order 1234', 'please open a ticket for order 1234', 'how do refunds work', 'thank you', 'what is the weather in paris', 'what time is it', 'hello', 'goodbye', 'where is my order 5678', 'what is the weather in london', 'tell me a joke'];
function opusRoundTrip(pcm: Int16Array): Int16Array {
  const enc = new OpusScript(24000, 1, OpusScript.Application.VOIP);
  const dec = new OpusScript(24000, 1, OpusScript.Application.VOIP);
  const out: number[] = [];
  for (let i = 0; i < pcm.length; i += 480) {
    const f = new Int16Array(480); f.set(pcm.subarray(i, i + 480));
    const d = dec.decode(enc.encode(Buffer.from(f.buffer), 480));
    const s = new Int16Array(d.buffer, d.byteOffset, d.length >> 1);
    out.push(...s);
  }
  return Int16Array.from(out);
}
const t0 = Date.now();
const tpl = await Promise.all(phrases.map(async p => ({ p, f: mfcc(await espeak(p, { voice: 'en-us' })) })));
console.log('templates ms', Date.now() - t0);
for (const voice of ['en-us', 'en', 'en-us+f3']) {
  for (const p of phrases) {
    const pcm = opusRoundTrip(await espeak(p, { voice }));
    const q = mfcc(pcm);
    const t1 = Date.now();
    const ds = tpl.map(t => ({ p: t.p, d: dtw(q, t.f) })).sort((a, b) => a.d - b.d);
    console.log(voice.padEnd(9), p.padEnd(38), '→', ds[0]!.p.padEnd(38), ds[0]!.d.toFixed(2), ds[1]!.d.toFixed(2), `${Date.now() - t1}ms`);
  }
}
