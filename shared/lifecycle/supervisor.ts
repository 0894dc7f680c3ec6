import { ATTACH_BUDGET_MS } from './effects';
import type { LifecycleOperation } from './operations';
import { isTerminal, overdueOperation, watchDeadline, type LifecycleRecord } from './reducer';

/**
 * What a session's supervisor does next, as a pure function of the record and the time. The Durable
 * supervisor orchestration asks it after every timer; the local lifecycle's shared watchdog tick asks it for
 * each session it holds.
 */
export interface SupervisorTimeouts {
  /** A live session without a heartbeat for this long lost its worker. */
  heartbeatTimeoutMs: number;
  /** `attaching` may last this long (heartbeat timeout + the attach effect's own retry budget). */
  attachTimeoutMs: number;
  /** A session nobody connected (`requested` / `accepting`) is ended after this long. */
  idleTimeoutMs: number;
  /** `ending` that never completed (its hang-up effect died) is closed after this long. */
  endingTimeoutMs: number;
  /** How long to wait for a record that does not exist yet (the `requested` signal is on its way). */
  missingGraceMs: number;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;

export type SupervisorDecision =
  { kind: 'stop' } | { kind: 'apply'; op: LifecycleOperation } | { kind: 'wait'; until: number };

export function supervisorDecision(
  s: LifecycleRecord | null,
  now: number,
  t: SupervisorTimeouts,
  /** When the supervisor started (only used while the record does not exist yet). */
  startedAt = now,
): SupervisorDecision {
  if (!s) return now - startedAt >= t.missingGraceMs ? { kind: 'stop' } : { kind: 'wait', until: now + 1000 };
  if (isTerminal(s.state)) return { kind: 'stop' };
  if (s.state === 'attaching' || s.state === 'live') {
    const op = overdueOperation(s, now, t.heartbeatTimeoutMs, t.attachTimeoutMs);
    if (op) return { kind: 'apply', op };
    return { kind: 'wait', until: watchDeadline(s, t.heartbeatTimeoutMs, t.attachTimeoutMs)! };
  }
  const limit = s.state === 'ending' ? t.endingTimeoutMs : t.idleTimeoutMs;
  if (now - s.stateSince >= limit) {
    const reason = s.state === 'ending' ? 'hang-up did not complete in time' : 'nobody connected the call in time';
    return { kind: 'apply', op: { type: 'ended', reason, at: now } };
  }
  return { kind: 'wait', until: s.stateSince + limit };
}

export function supervisorTimeouts(
  cfg: { HEARTBEAT_TIMEOUT_SECONDS: number },
  attachBudgetMs = ATTACH_BUDGET_MS,
): SupervisorTimeouts {
  const hb = cfg.HEARTBEAT_TIMEOUT_SECONDS * 1000;
  return {
    heartbeatTimeoutMs: hb,
    attachTimeoutMs: hb + attachBudgetMs,
    idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
    endingTimeoutMs: Math.max(30_000, hb * 2),
    missingGraceMs: 60_000,
  };
}
