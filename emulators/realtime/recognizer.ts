import type { Recognizer } from './context';
import { INAUDIBLE } from './model';
import type { Scenario } from './scenarios';

/** Placeholder: replaced by spectral template matching. */
export class SpectralRecognizer implements Recognizer {
  constructor(
    readonly scenarios: Scenario[],
    readonly opts: { useEspeak?: boolean; log?: (l: string) => void } = {},
  ) {}
  prepare(): Promise<void> {
    return Promise.resolve();
  }
  async recognize(_pcm: Int16Array): Promise<string> {
    return INAUDIBLE;
  }
}
