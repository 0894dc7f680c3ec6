import type { SessionEvent, SessionEventPublisher } from '../events/types';
import type { SessionRecord } from '../stores/sessions';
import { recordAttachTime, recordSessionFailed, recordSessionStarted } from './metrics';

export interface SessionMetricsDeps {
  /** The session row gives the agent and transport (state events carry neither). */
  sessions: { get(sessionId: string): Promise<Pick<SessionRecord, 'agentId' | 'transport' | 'acceptedAt' | 'createdAt'> | undefined> };
  log?: (line: string) => void;
}

/**
 * Session metrics from the lifecycle's state events, wherever the lifecycle runs (local lifecycle or the
 * Durable emit activity): `requested` → sessions started; `attaching` → `live` → time to attach;
 * `failed` → sessions failed. Every event still reaches the inner publisher; a failed row read only loses
 * a metric, never the event.
 */
export function withSessionMetrics(inner: SessionEventPublisher, deps: SessionMetricsDeps): SessionEventPublisher {
  const log = deps.log ?? (() => {});
  // When each session entered `attaching`, for the local lifecycle (one process). The Durable emit activity
  // may run elsewhere: there the row's acceptedAt is the start. Bounded: entries leave at live/ended/failed.
  const attachingSince = new Map<string, number>();
  const MAX_TRACKED = 50_000;

  const observe = async (event: Extract<SessionEvent, { type: 'state' }>) => {
    const { sessionId, state, at } = event;
    if (state === 'attaching') {
      if (attachingSince.size < MAX_TRACKED) attachingSince.set(sessionId, at);
      return;
    }
    if (state !== 'requested' && state !== 'live' && state !== 'failed' && state !== 'ended') return;
    const since = attachingSince.get(sessionId);
    if (state !== 'requested') attachingSince.delete(sessionId);
    if (state === 'ended') return;
    const row = await deps.sessions.get(sessionId);
    const attrs = { agentId: row?.agentId ?? 'unknown', transport: row?.transport };
    if (state === 'requested') recordSessionStarted(attrs);
    else if (state === 'failed') recordSessionFailed({ agentId: attrs.agentId, reason: event.reason ?? 'unknown' });
    else {
      const start = since ?? row?.acceptedAt;
      if (start !== undefined) recordAttachTime(at - start, attrs);
    }
  };

  return {
    async publish(event: SessionEvent) {
      const published = inner.publish(event);
      if (event.type === 'state') {
        await observe(event).catch((err) => log(`session ${event.sessionId} metrics (${event.state}) failed: ${(err as Error).message}`));
      }
      await published;
    },
  };
}
