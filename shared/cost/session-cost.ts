import type { SessionRow } from '../stores/sessions';
import { emptyUsage, inputTokens, outputTokens, type CallUsage, type CostSnapshot } from './usage';

/** The session-row fields (shared/stores/sessions.ts) that hold a call's usage and cost. */
export type CostFields = Pick<
  SessionRow,
  | 'inputTokens'
  | 'outputTokens'
  | 'textInputTokens'
  | 'textCachedTokens'
  | 'textOutputTokens'
  | 'audioInputTokens'
  | 'audioCachedTokens'
  | 'audioOutputTokens'
  | 'imageInputTokens'
  | 'imageCachedTokens'
  | 'liveSeconds'
  | 'costUsd'
  | 'costPricedAs'
  | 'costAlertAt'
>;

export function costPatch(s: CostSnapshot): CostFields {
  const u = s.usage;
  return {
    inputTokens: inputTokens(u),
    outputTokens: outputTokens(u),
    textInputTokens: u.text.input,
    textCachedTokens: u.text.cachedInput,
    textOutputTokens: u.text.output,
    audioInputTokens: u.audio.input,
    audioCachedTokens: u.audio.cachedInput,
    audioOutputTokens: u.audio.output,
    imageInputTokens: u.image.input,
    imageCachedTokens: u.image.cachedInput,
    liveSeconds: u.liveSeconds,
    ...(s.usd !== undefined ? { costUsd: s.usd, costPricedAs: s.pricedAs } : {}),
  };
}

/** A row's stored usage, to continue counting from (a re-attached or resumed call). */
export function usageFromRow(row: Partial<CostFields>): CallUsage {
  const u = emptyUsage();
  u.text = {
    input: row.textInputTokens ?? 0,
    cachedInput: row.textCachedTokens ?? 0,
    output: row.textOutputTokens ?? 0,
  };
  u.audio = {
    input: row.audioInputTokens ?? 0,
    cachedInput: row.audioCachedTokens ?? 0,
    output: row.audioOutputTokens ?? 0,
  };
  u.image = { input: row.imageInputTokens ?? 0, cachedInput: row.imageCachedTokens ?? 0, output: 0 };
  u.liveSeconds = row.liveSeconds ?? 0;
  // Rows written before the breakdown existed carry totals only: they count as text, like an unsplit usage.
  const split = row.textInputTokens ?? row.audioInputTokens ?? row.imageInputTokens ?? row.textOutputTokens;
  if (split === undefined && row.audioOutputTokens === undefined) {
    u.text.input = row.inputTokens ?? 0;
    u.text.output = row.outputTokens ?? 0;
  }
  return u;
}

/** What GET /api/sessions/{id} and the operator's list answer: tokens by modality and the cost so far. */
export function costView(row: Partial<CostFields> & { model?: string }) {
  if (row.inputTokens === undefined && row.liveSeconds === undefined && row.costUsd === undefined) return undefined;
  const u = usageFromRow(row);
  return {
    usage: {
      inputTokens: row.inputTokens ?? inputTokens(u),
      outputTokens: row.outputTokens ?? outputTokens(u),
      text: u.text,
      audio: u.audio,
      image: { input: u.image.input, cachedInput: u.image.cachedInput },
      liveSeconds: u.liveSeconds,
    },
    cost: {
      usd: row.costUsd ?? null,
      currency: 'USD' as const,
      model: row.model ?? null,
      pricedAs: row.costPricedAs ?? null,
      alertAt: row.costAlertAt ?? null,
    },
  };
}
