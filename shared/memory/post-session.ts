import type { SessionEvent, SessionEventPublisher } from '../events/types';
import type { SummarizeResult } from './summarize';

export interface PostSessionOptions {
  /**
   * `true` (Durable: the lifecycle's emit activity runs this): wait for the summary, so it happens inside the
   * activity and is not cut off when the host freezes. `false` (local lifecycle): run it in the background
   * so the lifecycle's `ended` transition is not held up by the text model.
   */
  awaitSummary: boolean;
  log?: (line: string) => void;
}

/**
 * Hooks the post-session summary onto the lifecycle's `ended` state event. By then the lifecycle has
 * detached the worker, which flushes the session's last transcript batch on detach, so the summary sees
 * the whole transcript. The lifecycle's own publisher still gets every event; a failing summary is logged,
 * never propagated (the summary is retry-safe and can be re-run for the session id).
 */
export function withSessionSummaries(
  inner: SessionEventPublisher,
  summarize: (sessionId: string) => Promise<SummarizeResult>,
  opts: PostSessionOptions,
): SessionEventPublisher {
  const log = opts.log ?? (() => {});
  const run = (sessionId: string) =>
    summarize(sessionId).then(
      (r) => log(`session ${sessionId} summary: ${r.status}`),
      (err) => log(`session ${sessionId} summary failed: ${(err as Error).message}`),
    );
  return {
    async publish(event: SessionEvent) {
      const published = inner.publish(event);
      if (event.type === 'state' && event.state === 'ended') {
        if (opts.awaitSummary) await run(event.sessionId);
        else void run(event.sessionId);
      }
      await published;
    },
  };
}
