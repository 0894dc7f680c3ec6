import type { Transport } from '../lifecycle/operations';
/**
 * Conversation memory contract. The worker appends transcript items as they complete; the memory module
 * (shared/memory) stores them per user (or per caller number for SIP) and seeds later sessions.
 */
export interface TranscriptItem {
  /** Realtime item id (`item_…`): writes are idempotent by it. */
  itemId: string;
  sessionId: string;
  agentId: string;
  role: 'user' | 'assistant' | 'tool';
  text: string;
  /** Unix ms when the item completed; orders rows in time. */
  at: number;
  /** For tool items: the call id and tool name. */
  callId?: string;
  toolName?: string;
}

export interface HistoryStore {
  /** Idempotent by itemId; written in transactional batches (≤100 per partition). */
  append(partition: string, items: TranscriptItem[]): Promise<void>;
  /** Items of one session in time order. */
  forSession(partition: string, sessionId: string): Promise<TranscriptItem[]>;
  /** The most recent `limit` items of this partition for an agent, oldest first. */
  recent(partition: string, agentId: string, limit: number): Promise<TranscriptItem[]>;
  /** Removes every row of the partition; returns how many were removed. */
  deleteAll(partition: string): Promise<number>;
  /** Removes rows older than `beforeMs` across partitions; returns how many were removed. */
  purgeBefore(beforeMs: number): Promise<number>;
}

/**
 * The partition for a caller: a signed-in user id, or `sip:<number>` for phone callers. A phone caller without a
 * usable number shares memory with nobody: their partition is their session's own (`anon:<sessionId>`).
 */
export const historyPartition = (who: { userId?: string; sipFrom?: string; sessionId?: string }): string => {
  if (who.userId) return `user:${who.userId}`;
  if (who.sipFrom && /^\+?[0-9]{3,20}$/.test(who.sipFrom)) return `sip:${who.sipFrom}`;
  if (!who.sessionId) throw new Error('a caller without a number needs a session of their own');
  return `anon:${who.sessionId}`;
};

/** Memory of a phone number is only the caller's once they proved it is theirs (the agent's verification). */
export const partitionNeedsVerification = (partition: string) => partition.startsWith('sip:');

/**
 * The same rule for a session as the worker's attach request names its caller: phone sessions carry
 * `sip:<number>` (or transport `sip`) in place of a user id.
 */
export const historyPartitionForCaller = (a: { userId: string; transport: Transport; sessionId: string }): string =>
  a.transport === 'sip' || a.userId.startsWith('sip:') || a.userId.startsWith('anon:')
    ? historyPartition({ sipFrom: a.userId.replace(/^sip:/, ''), sessionId: a.sessionId })
    : historyPartition({ userId: a.userId });

/** What seeding knows of earlier sessions with one agent: rewritten after each session ends. */
export interface RollingSummary {
  agentId: string;
  text: string;
  /** Unix ms of the last rewrite; retention purges summaries not rewritten within the window. */
  updatedAt: number;
  /** How many sessions have been folded in. */
  sessions: number;
  lastSessionId?: string;
  /** The latest folds as `<sessionId>#<itemCount>` (bounded): a retried fold of any of them is skipped. */
  recentSessionIds?: string[];
  /** Concurrency token of the stored row, when read from the store. */
  etag?: string;
}

/** putSummary with an `etag` (or `null`: must not exist yet) lost a race with another writer. */
export class SummaryConflictError extends Error {
  constructor(
    readonly partition: string,
    readonly agentId: string,
  ) {
    super(`rolling summary of ${agentId} changed concurrently`);
    this.name = 'SummaryConflictError';
  }
}

export interface SummaryStore {
  getSummary(partition: string, agentId: string): Promise<RollingSummary | undefined>;
  /** `etag`: only if unchanged since read; `null`: only if none exists; absent: unconditional. */
  putSummary(partition: string, summary: RollingSummary, opts?: { etag?: string | null }): Promise<void>;
}

/** What a delete or purge removed from one partition. */
export interface Removal {
  partition: string;
  /** Rows actually deleted (all kinds). */
  total: number;
  items: number;
  summaries: number;
  /** Sessions whose marker row was deleted: their per-session summaries are cleared too. */
  sessionIds: string[];
}

/** The history table as a whole: transcript items plus rolling summaries, same partitions. */
export interface MemoryStore extends HistoryStore, SummaryStore {
  /** Ids of the sessions that have history in this partition (from their marker rows). */
  listSessions(partition: string): Promise<string[]>;
  /** deleteAll with a breakdown. */
  deletePartition(partition: string): Promise<Removal>;
  /** purgeBefore with a breakdown per partition (partition = the stored, key-safe form). */
  purgeBeforeDetailed(beforeMs: number): Promise<Removal[]>;
}
