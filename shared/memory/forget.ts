import { isStorageStatus } from '../storage/tables';
import type { SessionStore } from '../stores/sessions';
import type { ToolRunCleanup } from '../stores/tool-run-cleanup';
import type { MemoryStore } from './types';

export interface ForgetDeps {
  history: MemoryStore;
  /** Session rows carry a per-session summary (user data too): cleared for every forgotten session. */
  sessions: Pick<SessionStore, 'update'>;
  /** Tool runs keep what tools returned: they go with the history. */
  toolRunCleanup?: ToolRunCleanup;
}

export interface ForgetResult {
  historyRows: number;
  transcriptItems: number;
  rollingSummaries: number;
  sessionSummariesCleared: number;
  toolRuns: number;
}

async function clearSessionSummaries(sessions: ForgetDeps['sessions'], ids: Iterable<string>): Promise<number> {
  let cleared = 0;
  for (const id of new Set(ids)) {
    try {
      await sessions.update(id, { summary: '', transcriptItems: 0 });
      cleared++;
    } catch (err) {
      // The session row may already be gone (its own cleanup); nothing left to clear.
      if (!isStorageStatus(err, 404)) throw err;
    }
  }
  return cleared;
}

/**
 * `DELETE /api/users/me/history`: every row of the caller's partition (transcript items, session markers,
 * rolling summaries) and the summaries on their session rows. Session summaries are cleared first, from the
 * marker rows, so a failure half-way leaves the markers in place and a retry finishes the job.
 */
export async function forgetCaller(deps: ForgetDeps, partition: string): Promise<ForgetResult> {
  const sessionIds = await deps.history.listSessions(partition);
  const sessionSummariesCleared = await clearSessionSummaries(deps.sessions, sessionIds);
  const toolRuns = (await deps.toolRunCleanup?.deleteSessions(sessionIds)) ?? 0;
  const removal = await deps.history.deletePartition(partition);
  return {
    historyRows: removal.total,
    transcriptItems: removal.items,
    rollingSummaries: removal.summaries,
    sessionSummariesCleared,
    toolRuns,
  };
}

export interface PurgeResult {
  cutoff: number;
  rows: number;
  partitions: number;
  sessionSummariesCleared: number;
  toolRuns: number;
}

export const DAY_MS = 86_400_000;

/** Retention: removes history rows older than `retentionDays` (and the summaries of sessions that go). */
export async function purgeExpiredHistory(
  deps: ForgetDeps,
  retentionDays: number,
  now = Date.now(),
): Promise<PurgeResult> {
  if (!Number.isFinite(retentionDays) || retentionDays < 1) throw new Error('retentionDays must be at least 1');
  const cutoff = now - retentionDays * DAY_MS;
  const toolRuns = (await deps.toolRunCleanup?.purgeBefore(cutoff)) ?? 0;
  const removals = await deps.history.purgeBeforeDetailed(cutoff);
  const sessionSummariesCleared = await clearSessionSummaries(
    deps.sessions,
    removals.flatMap((r) => r.sessionIds),
  );
  return {
    cutoff,
    rows: removals.reduce((n, r) => n + r.total, 0),
    partitions: removals.length,
    sessionSummariesCleared,
    toolRuns,
  };
}
