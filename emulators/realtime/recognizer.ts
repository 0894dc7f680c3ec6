import type { Recognizer } from './context';
import { dtw, mfcc } from './features';
import { INAUDIBLE } from './model';
import type { Scenario } from './scenarios';
import { espeak, espeakAvailable } from './tts';

/** espeak-ng voices the templates are spoken in: `en` is the CLI default, `en-us` what the emulator speaks. */
const TEMPLATE_VOICES = ['en-us', 'en'];
/** A match must be this close (mean MFCC distance per DTW step)… */
const MAX_DISTANCE = 18;
/** …and clearly closer than the best different utterance. */
const MAX_RATIO = 0.7;

interface Template {
  text: string;
  voice: string;
  features: Float64Array[];
}

/**
 * "Recognizes" user audio without an ASR model, honestly: at start-up every scenario sample utterance is
 * synthesized with espeak-ng and reduced to MFCC frames; committed user audio is compared to each by DTW and
 * the nearest one wins if it is close enough, else the transcript is `[inaudible]`. So it recognizes those
 * sample sentences spoken by espeak-ng (also through Opus/WebRTC), not arbitrary speech or human voices.
 */
export class SpectralRecognizer implements Recognizer {
  private templates?: Promise<Template[]>;

  constructor(
    readonly scenarios: Scenario[],
    readonly opts: { useEspeak?: boolean; log?: (l: string) => void } = {},
  ) {}

  /** The sentences it can recognize. */
  get vocabulary(): string[] {
    return [...new Set(this.scenarios.flatMap((s) => s.rules.flatMap((r) => r.samples ?? [])))];
  }

  prepare(): Promise<void> {
    this.templates ??= this.build();
    return this.templates.then(() => undefined);
  }

  private async build(): Promise<Template[]> {
    if (this.opts.useEspeak === false || !espeakAvailable()) {
      this.opts.log?.(
        'realtime emulator: espeak-ng disabled or not installed: spoken input is transcribed as [inaudible]',
      );
      return [];
    }
    const started = Date.now();
    const jobs = this.vocabulary.flatMap((text) => TEMPLATE_VOICES.map((voice) => ({ text, voice })));
    const out: Template[] = [];
    // Two at a time: start-up should not take the machine's both cores from everything else.
    for (let i = 0; i < jobs.length; i += 2) {
      const batch = await Promise.all(
        jobs.slice(i, i + 2).map(async (j) => ({ ...j, features: mfcc(await espeak(j.text, { voice: j.voice })) })),
      );
      out.push(...batch.filter((t) => t.features.length > 0));
    }
    this.opts.log?.(`realtime emulator: ${out.length} spoken templates ready in ${Date.now() - started} ms`);
    return out;
  }

  async recognize(pcm: Int16Array): Promise<string> {
    const templates = await (this.templates ??= this.build());
    const best = this.rank(pcm, templates);
    if (!best) return INAUDIBLE;
    return best.text;
  }

  /** Nearest template and its distance, or undefined when nothing is close enough. */
  rank(pcm: Int16Array, templates: Template[]): { text: string; distance: number } | undefined {
    const q = mfcc(pcm);
    if (q.length < 10) return undefined; // under ~100 ms of sound
    const byText = new Map<string, number>();
    for (const t of templates) {
      const d = dtw(q, t.features);
      if (d < (byText.get(t.text) ?? Infinity)) byText.set(t.text, d);
    }
    const ranked = [...byText.entries()].sort((a, b) => a[1] - b[1]);
    const [first, second] = ranked;
    if (!first || first[1] > MAX_DISTANCE) return undefined;
    if (second && first[1] > MAX_RATIO * second[1]) return undefined;
    return { text: first[0], distance: first[1] };
  }
}
