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
export function addResponseUsage(
  acc: SessionUsage,
  response: Pick<RealtimeResponse, 'usage'> | undefined,
): SessionUsage {
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

export interface UsageRecorder {
  /** Call on every sideband `response.done` (`event.response`). */
  add(sessionId: string, response: Pick<RealtimeResponse, 'usage'> | undefined): void;
  /** Call when the worker lets the session go (detach, drain, end): one row merge, then forgotten. */
  end(sessionId: string): Promise<void>;
  /** Usage so far (tests, stats). */
  peek(sessionId: string): SessionUsage | undefined;
}

/**
 * Per-session token usage in the worker, written to the session row once, when the worker lets the session
 * go (so usage costs one Table request per session, not one per response). A session taken over by
 * another worker after a crash is counted from the takeover on: the lost worker's share is not recovered.
 */
export function createUsageRecorder(
  sessions: { update(sessionId: string, patch: { inputTokens: number; outputTokens: number }): Promise<void> },
  log: (line: string) => void = () => {},
): UsageRecorder {
  const bySession = new Map<string, SessionUsage>();
  return {
    add(sessionId, response) {
      let u = bySession.get(sessionId);
      if (!u) bySession.set(sessionId, (u = emptyUsage()));
      addResponseUsage(u, response);
    },
    async end(sessionId) {
      const u = bySession.get(sessionId);
      bySession.delete(sessionId);
      if (!u || u.responses === 0) return;
      await sessions
        .update(sessionId, usagePatch(u))
        .catch((err) => log(`usage of ${sessionId} not stored: ${(err as Error).message}`));
    },
    peek: (sessionId) => bySession.get(sessionId),
  };
}
