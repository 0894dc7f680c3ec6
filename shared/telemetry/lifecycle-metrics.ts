import type { SessionEvent, SessionEventPublisher } from '../events/types';
import type { SessionRow } from '../stores/sessions';
import { recordAttachTime, recordSessionFailed, recordSessionStarted } from './metrics';

export interface SessionMetricsDeps {
  /** The session row gives the agent and transport (state events carry neither). */
  sessions: {
    get(sessionId: string): Promise<Pick<SessionRow, 'agentId' | 'transport' | 'acceptedAt'> | undefined>;
  };
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
  // Per session in this process (the local lifecycle sees every event of a session): when it entered
  // `attaching`, and its row, so the row is read once per session rather than per event. The Durable emit
  // activity may run anywhere: there a miss reads the row, and the row's acceptedAt starts the attach time.
  // Bounded: entries leave at ended/failed, and nothing is added past MAX_TRACKED.
  const attachingSince = new Map<string, number>();
  const rows = new Map<string, Row>();
  const MAX_TRACKED = 50_000;
  type Row = Pick<SessionRow, 'agentId' | 'transport' | 'acceptedAt'>;

  const rowOf = async (
    sessionId: string,
    event?: Extract<SessionEvent, { type: 'state' }>,
  ): Promise<Row | undefined> => {
    const cached = rows.get(sessionId);
    if (cached) return cached;
    // The lifecycle's events carry the agent and transport: no storage read for them.
    if (event?.agentId && event.transport) {
      const fromEvent: Row = { agentId: event.agentId, transport: event.transport };
      if (rows.size < MAX_TRACKED) rows.set(sessionId, fromEvent);
      return fromEvent;
    }
    const row = await deps.sessions.get(sessionId);
    if (row && rows.size < MAX_TRACKED)
      rows.set(sessionId, { agentId: row.agentId, transport: row.transport, acceptedAt: row.acceptedAt });
    return row;
  };

  const observe = async (event: Extract<SessionEvent, { type: 'state' }>) => {
    const { sessionId, state, at } = event;
    if (state === 'attaching') {
      if (attachingSince.size < MAX_TRACKED) attachingSince.set(sessionId, at);
      return;
    }
    if (state === 'ended') {
      attachingSince.delete(sessionId);
      rows.delete(sessionId);
      return;
    }
    if (state !== 'requested' && state !== 'live' && state !== 'failed') return;
    const row = await rowOf(sessionId, event);
    const attrs = { agentId: row?.agentId ?? 'unknown', transport: row?.transport };
    if (state === 'requested') {
      recordSessionStarted(attrs);
    } else if (state === 'failed') {
      attachingSince.delete(sessionId);
      rows.delete(sessionId);
      recordSessionFailed({ agentId: attrs.agentId, reason: event.reason ?? 'unknown' });
    } else {
      // The cached row may predate the accept: read acceptedAt afresh when `attaching` was not seen here.
      const start =
        attachingSince.get(sessionId) ?? row?.acceptedAt ?? (await deps.sessions.get(sessionId))?.acceptedAt;
      attachingSince.delete(sessionId);
      if (start !== undefined) recordAttachTime(at - start, attrs);
    }
  };

  return {
    async publish(event: SessionEvent) {
      const published = inner.publish(event);
      if (event.type === 'state') {
        await observe(event).catch((err) =>
          log(`session ${event.sessionId} metrics (${event.state}) failed: ${(err as Error).message}`),
        );
      }
      await published;
    },
  };
}
