import type { RealtimeResponse } from 'openai/resources/realtime/realtime';

/** Token usage of one session, summed over its `response.done` events. */
export interface SessionUsage {
  inputTokens: number;
  outputTokens: number;
  inputAudioTokens: number;
  outputAudioTokens: number;
  cachedTokens: number;
  responses: number;
}

export const emptyUsage = (): SessionUsage => ({
  inputTokens: 0,
  outputTokens: 0,
  inputAudioTokens: 0,
  outputAudioTokens: 0,
  cachedTokens: 0,
  responses: 0,
});

/** Adds one `response.done`'s `response.usage` (absent fields count as 0); returns the same object. */
export function addResponseUsage(acc: SessionUsage, response: Pick<RealtimeResponse, 'usage'> | undefined): SessionUsage {
  const u = response?.usage;
  acc.responses++;
  if (!u) return acc;
  acc.inputTokens += u.input_tokens ?? 0;
  acc.outputTokens += u.output_tokens ?? 0;
  acc.inputAudioTokens += u.input_token_details?.audio_tokens ?? 0;
  acc.outputAudioTokens += u.output_token_details?.audio_tokens ?? 0;
  acc.cachedTokens += u.input_token_details?.cached_tokens ?? 0;
  return acc;
}

/** The session-row fields (shared/stores/sessions.ts) written once when the session ends. */
export const usagePatch = (u: SessionUsage) => ({ inputTokens: u.inputTokens, outputTokens: u.outputTokens });
