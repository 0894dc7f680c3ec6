import type { SessionEvent, SessionEventPublisher } from '../events/types';
import type { SessionStore } from '../stores/sessions';
import type { SessionEndPatch, SummarizeResult } from './summarize';

export interface SessionBookkeepingDeps {
  /** The post-session summary; the end fields are written in the same row update. */
  summarize: (sessionId: string, end: SessionEndPatch) => Promise<SummarizeResult>;
  sessions: Pick<SessionStore, 'update'>;
  log?: (line: string) => void;
  /**
   * `true` (Durable: the lifecycle's emit activity runs this): wait, so the work happens inside the activity
   * and is not cut off when the host freezes. `false` (local lifecycle): run in the background so the
   * lifecycle's transitions are not held up by Table writes or the text model.
   */
  awaitWork: boolean;
  /**
   * `false` (local lifecycle): the lifecycle writes the row's state, timings and end reason in the same transaction
   * as its own record, so only the summary is left to write here.
   */
  mirror?: boolean;
}

/**
 * Keeps the session row's timings, end reason and summary in step with the lifecycle, from its state events:
 * `live` → liveAt; `ended` → endedAt, endReason and the summary (one merge); `failed` → endedAt, endReason.
 * By `ended` the lifecycle has detached the worker, which flushes the last transcript batch on detach, so
 * the summary sees the whole transcript. Every event still reaches the inner publisher; a failing write or
 * summary is logged, never propagated (both are retry-safe).
 */
export function withSessionBookkeeping(
  inner: SessionEventPublisher,
  deps: SessionBookkeepingDeps,
): SessionEventPublisher {
  const log = deps.log ?? (() => {});
  const work = (event: Extract<SessionEvent, { type: 'state' }>): Promise<void> | undefined => {
    const { sessionId, at, reason } = event;
    const fail = (err: unknown) =>
      log(`session ${sessionId} bookkeeping (${event.state}) failed: ${(err as Error).message}`);
    const mirror = deps.mirror ?? true;
    switch (event.state) {
      case 'live':
        if (!mirror) return undefined;
        return deps.sessions.update(sessionId, { state: 'live', liveAt: at }).catch(fail);
      case 'failed':
        if (!mirror) return undefined;
        return deps.sessions
          .update(sessionId, { state: 'failed', endedAt: at, ...(reason ? { endReason: reason } : {}) })
          .catch(fail);
      case 'ended':
        return deps
          .summarize(sessionId, mirror ? { state: 'ended', endedAt: at, ...(reason ? { endReason: reason } : {}) } : {})
          .then((r) => log(`session ${sessionId} summary: ${r.status}`), fail);
      default:
        return undefined;
    }
  };
  return {
    async publish(event: SessionEvent) {
      const published = inner.publish(event);
      const pending = event.type === 'state' ? work(event) : undefined;
      if (pending && deps.awaitWork) await pending;
      await published;
    },
  };
}
