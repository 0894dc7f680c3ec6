import type { RealtimeResponseUsage } from 'openai/resources/realtime/realtime';
import { priceFor, type ModelPrice, type PriceTable } from './prices';

/** Tokens of one modality. `cachedInput` is part of `input` (as the service counts it), not added to it. */
export interface TokenCounts {
  input: number;
  cachedInput: number;
  output: number;
}

/** Everything a call used, summed over its `response.done` usages and the service's session-seconds reports. */
export interface CallUsage {
  text: TokenCounts;
  audio: TokenCounts;
  image: TokenCounts;
  /** Session seconds as the service last reported them (a running total, e.g. GPT-Live `session.usage.updated`). */
  liveSeconds: number;
  /** `response.done` events counted (with or without usage). */
  responses: number;
}

const counts = (): TokenCounts => ({ input: 0, cachedInput: 0, output: 0 });
export const emptyUsage = (): CallUsage => ({
  text: counts(),
  audio: counts(),
  image: counts(),
  liveSeconds: 0,
  responses: 0,
});

const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0);

/**
 * Adds one `response.done`'s `response.usage` (GA `RealtimeResponseUsage`; Voice Live's beta usage has the same
 * fields). Input tokens a service reports without a modality breakdown count as text, and cached tokens without
 * their breakdown are taken from text first: the cheapest reading, stated in the README.
 */
export function addResponseUsage(acc: CallUsage, usage: RealtimeResponseUsage | null | undefined): CallUsage {
  acc.responses++;
  if (!usage) return acc;
  const inD = usage.input_token_details;
  const outD = usage.output_token_details;
  const inText = n(inD?.text_tokens);
  const inAudio = n(inD?.audio_tokens);
  const inImage = n(inD?.image_tokens);
  const inRest = Math.max(0, n(usage.input_tokens) - inText - inAudio - inImage);
  const outText = n(outD?.text_tokens);
  const outAudio = n(outD?.audio_tokens);
  const outRest = Math.max(0, n(usage.output_tokens) - outText - outAudio);
  const input = { text: inText + inRest, audio: inAudio, image: inImage };
  acc.text.input += input.text;
  acc.audio.input += input.audio;
  acc.image.input += input.image;
  acc.text.output += outText + outRest;
  acc.audio.output += outAudio;

  const cached = n(inD?.cached_tokens);
  const cd = inD?.cached_tokens_details;
  if (cd) {
    acc.text.cachedInput += Math.min(n(cd.text_tokens), input.text);
    acc.audio.cachedInput += Math.min(n(cd.audio_tokens), input.audio);
    acc.image.cachedInput += Math.min(n(cd.image_tokens), input.image);
  } else if (cached) {
    let left = cached;
    for (const m of ['text', 'audio', 'image'] as const) {
      const take = Math.min(left, input[m]);
      acc[m].cachedInput += take;
      left -= take;
    }
  }
  return acc;
}

/** A running total of session seconds: the larger of what was known and what is reported (never summed). */
export function setLiveSeconds(acc: CallUsage, seconds: number): CallUsage {
  acc.liveSeconds = Math.max(acc.liveSeconds, n(seconds));
  return acc;
}

export const inputTokens = (u: CallUsage) => u.text.input + u.audio.input + u.image.input;
export const outputTokens = (u: CallUsage) => u.text.output + u.audio.output + u.image.output;

const tokenCost = (c: TokenCounts, p: ModelPrice['text']) =>
  p
    ? ((c.input - c.cachedInput) * p.input + c.cachedInput * (p.cachedInput ?? p.input) + c.output * p.output) / 1e6
    : 0;

/** USD for a usage at one model's price. A modality the price does not name costs nothing (say so in PRICE_TABLE). */
export function costOfUsage(u: CallUsage, price: ModelPrice): number {
  const minutes = price.perMinute !== undefined ? (u.liveSeconds / 60) * price.perMinute : 0;
  return tokenCost(u.text, price.text) + tokenCost(u.audio, price.audio) + tokenCost(u.image, price.image) + minutes;
}

export interface CostSnapshot {
  usage: CallUsage;
  /** Undefined when the model has no price in the table (the tokens are still counted). */
  usd?: number;
  /** The price-table entry used (`gpt-realtime` for a `gpt-realtime-2025-08-28` deployment). */
  pricedAs?: string;
  model: string;
}

/**
 * The running cost of one call: feed it the call's server events (or its usages directly) and read a snapshot.
 * The one accumulator every provider feeds — `response.done` usage for token-priced models, `session.usage.updated`
 * (`usage.seconds`, a running total) for minute-priced ones.
 */
export class CallCost {
  readonly usage = emptyUsage();
  private readonly priced: { model: string; price: ModelPrice } | undefined;

  constructor(
    readonly model: string,
    table: PriceTable,
  ) {
    this.priced = priceFor(table, model);
  }

  addResponseUsage(usage: RealtimeResponseUsage | null | undefined): void {
    addResponseUsage(this.usage, usage);
  }

  setLiveSeconds(seconds: number): void {
    setLiveSeconds(this.usage, seconds);
  }

  /**
   * Takes what it prices from one server event; true when the event changed the usage. Unknown event types reach
   * here wrapped (`{ type: 'unknown', originalType, raw }`, shared/realtime/events.ts) and are unwrapped.
   */
  observe(event: object): boolean {
    const ev = event as Record<string, unknown>;
    const e =
      ev.type === 'unknown' && typeof ev.raw === 'object' && ev.raw !== null ? (ev.raw as Record<string, unknown>) : ev;
    if (e.type === 'response.done') {
      this.addResponseUsage((e.response as { usage?: RealtimeResponseUsage } | undefined)?.usage);
      return true;
    }
    if (e.type === 'session.usage.updated') {
      const seconds = (e.usage as { seconds?: unknown } | undefined)?.seconds;
      const before = this.usage.liveSeconds;
      this.setLiveSeconds(typeof seconds === 'number' ? seconds : 0);
      return this.usage.liveSeconds !== before;
    }
    return false;
  }

  snapshot(): CostSnapshot {
    return {
      usage: this.usage,
      model: this.model,
      ...(this.priced ? { usd: costOfUsage(this.usage, this.priced.price), pricedAs: this.priced.model } : {}),
    };
  }
}
