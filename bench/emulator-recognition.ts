import OpusScript from 'opusscript';
import { loadScenarios } from '../emulators/realtime/scenarios';
import { SpectralRecognizer } from '../emulators/realtime/recognizer';
import { espeak } from '../emulators/realtime/tts';
import { report } from './report';

/**
 * `npx tsx bench/emulator-recognition.ts`: how well the emulator's template recognizer does. Every scenario
 * sample and a few sentences it should NOT know are spoken by espeak-ng in several voices, sent through an
 * Opus encode/decode round trip (as over WebRTC), and recognized. Prints accuracy per voice.
 */
const OUT_OF_VOCABULARY = [
  'tell me a joke',
  'where is my order 5678',
  'what is the weather in london',
  'can i speak to a human please',
];

function opusRoundTrip(pcm: Int16Array): Int16Array {
  const enc = new OpusScript(24000, 1, OpusScript.Application.VOIP);
  const dec = new OpusScript(24000, 1, OpusScript.Application.VOIP);
  const out: Int16Array[] = [];
  for (let i = 0; i < pcm.length; i += 480) {
    const f = new Int16Array(480);
    f.set(pcm.subarray(i, i + 480));
    const d = dec.decode(enc.encode(Buffer.from(f.buffer), 480));
    out.push(new Int16Array(d.buffer, d.byteOffset, d.length >> 1).slice());
  }
  enc.delete();
  dec.delete();
  return Int16Array.from(out.flatMap((a) => [...a]));
}

const recognizer = new SpectralRecognizer(loadScenarios());
const t0 = Date.now();
await recognizer.prepare();
const prepareMs = Date.now() - t0;
const vocabulary = recognizer.vocabulary;
const rows: Record<string, string | number>[] = [];
const misses: string[] = [];
for (const voice of ['en-us', 'en', 'en-us+f3', 'en-gb+m3']) {
  let correct = 0;
  let rejected = 0;
  let wrong = 0;
  let falseAccept = 0;
  let ms = 0;
  for (const text of [...vocabulary, ...OUT_OF_VOCABULARY]) {
    const pcm = opusRoundTrip(await espeak(text, { voice }));
    const t = Date.now();
    const got = await recognizer.recognize(pcm);
    ms += Date.now() - t;
    const known = vocabulary.includes(text);
    if (known && got === text) correct++;
    else if (got === '[inaudible]') rejected++;
    else if (known) wrong++;
    else falseAccept++;
    if ((known && got !== text) || (!known && got !== '[inaudible]')) misses.push(`${voice}: "${text}" → "${got}"`);
  }
  rows.push({
    voice,
    'in vocabulary': vocabulary.length,
    correct,
    wrong,
    'rejected ([inaudible])': rejected,
    'false accepts (out of vocabulary)': falseAccept,
    'ms per utterance': ms / (vocabulary.length + OUT_OF_VOCABULARY.length),
  });
}
report('emulator-recognition', rows, {
  templatesReadyMs: prepareMs,
  vocabulary,
  outOfVocabulary: OUT_OF_VOCABULARY,
  misses,
});
console.log(`templates ready in ${prepareMs} ms; misses:\n  ${misses.join('\n  ') || '(none)'}`);
