import { createHash } from 'node:crypto';
import type { SessionEvent, SessionEventPublisher } from '../events/types';
import type { JudgeResult } from './judge';

export interface SessionJudgeOptions {
  judge: (sessionId: string) => Promise<JudgeResult>;
  /**
   * `true` in the Durable emit activity (the work must finish inside the activity); `false` for the local
   * lifecycle (in the background, so transitions are not held up by the judge model).
   */
  awaitWork: boolean;
  /** Share of ended sessions judged (JUDGE_SAMPLE_RATE, 0–1; default 1): the judge costs a model call each. */
  sampleRate?: number;
  log?: (line: string) => void;
}

/**
 * Whether a session is in the judged sample. Derived from the session id, not a coin toss, so a retried
 * activity makes the same decision and a sample is reproducible.
 */
export function inJudgeSample(sessionId: string, rate: number): boolean {
  if (rate >= 1) return true;
  if (rate <= 0) return false;
  return createHash('sha256').update(sessionId).digest().readUInt32BE(0) / 2 ** 32 < rate;
}

/**
 * Runs the LLM-as-judge once a session has `ended` (the worker has flushed the transcript by then, as for
 * the memory summary). Failed sessions are not judged: there is usually no conversation to speak of. A
 * judge failure is logged, never propagated — the judge is retry-safe and can be re-run for the session id.
 */
export function withSessionJudge(inner: SessionEventPublisher, opts: SessionJudgeOptions): SessionEventPublisher {
  const log = opts.log ?? (() => {});
  const run = (sessionId: string) =>
    opts.judge(sessionId).then(
      (r) =>
        log(`session ${sessionId} judge: ${r.status}${r.status === 'scored' ? ` (overall ${r.score.overall})` : ''}`),
      (err) => log(`session ${sessionId} judge failed: ${(err as Error).message}`),
    );
  return {
    async publish(event: SessionEvent) {
      const published = inner.publish(event);
      if (event.type === 'state' && event.state === 'ended' && inJudgeSample(event.sessionId, opts.sampleRate ?? 1)) {
        // After the inner publisher (bookkeeping) so the session row has its end fields first.
        await published;
        if (opts.awaitWork) await run(event.sessionId);
        else void run(event.sessionId);
        return;
      }
      await published;
    },
  };
}
