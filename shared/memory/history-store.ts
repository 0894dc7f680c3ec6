import { odata, type TableClient, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { isStorageStatus, tableClient, TABLES, type StorageConfig } from '../storage/tables';
import {
  ITEM_PREFIX,
  SESSION_PREFIX,
  itemRowKey,
  partitionKey,
  prefixRange,
  sessionPrefix,
  sessionRowKey,
  summaryRowKey,
} from './keys';
import {
  SummaryConflictError,
  type MemoryStore,
  type Removal,
  type RollingSummary,
  type TranscriptItem,
} from './types';

/** Table Storage limits: 100 operations and 4 MiB per transaction; 64 KiB per string property. */
export const MAX_BATCH_OPS = 100;
const MAX_BATCH_BYTES = 3_500_000;
export const MAX_TEXT_CHARS = 30_000;

type Kind = 'item' | 'session' | 'summary';

interface ItemEntity extends TableEntity {
  kind: 'item';
  itemId: string;
  sessionId: string;
  agentId: string;
  role: TranscriptItem['role'];
  text: string;
  at: number;
  atKey: string;
  truncated?: boolean;
  callId?: string;
  toolName?: string;
}

interface SessionEntity extends TableEntity {
  kind: 'session';
  sessionId: string;
  agentId: string;
  startAt: number;
  at: number;
  atKey: string;
}

interface SummaryEntity extends TableEntity {
  kind: 'summary';
  agentId: string;
  text: string;
  at: number;
  atKey: string;
  sessions: number;
  lastSessionId?: string;
  /** Comma-separated (session ids are safe-key strings without commas in practice; split is lenient). */
  recentSessionIds?: string;
}

/** How many folded session ids a rolling summary remembers for retry detection. */
export const RECENT_SESSION_IDS = 20;

export interface HistoryStoreOptions {
  /** Use this client (tests wrap it to count requests); default: `history` table from config. */
  client?: TableClient;
  /** How many session starts to remember (default 5,000); tests lower it to see the oldest go. */
  maxKnownStarts?: number;
}

/**
 * Every row also carries `atKey`, its time as a zero-padded string: retention filters on it, because a
 * string comparison means the same on every Table service, while an untyped JSON number may be stored as
 * Double and compared against an Int64 filter literal (Azure Tables does not coerce numeric types).
 */
export const atKey = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(15, '0');

const emptyRemoval = (): Omit<Removal, 'partition'> => ({ total: 0, items: 0, summaries: 0, sessionIds: [] });

/** Splits actions into transactions within the op-count and payload limits. */
export function chunkActions(actions: TransactionAction[]): TransactionAction[][] {
  const out: TransactionAction[][] = [];
  let cur: TransactionAction[] = [];
  let bytes = 0;
  for (const a of actions) {
    const size = Buffer.byteLength(JSON.stringify(a[1])) + 200;
    if (cur.length && (cur.length >= MAX_BATCH_OPS || bytes + size > MAX_BATCH_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(a);
    bytes += size;
  }
  if (cur.length) out.push(cur);
  return out;
}

const toItem = (e: ItemEntity): TranscriptItem => ({
  itemId: e.itemId,
  sessionId: e.sessionId,
  agentId: e.agentId,
  role: e.role,
  text: e.text,
  at: e.at,
  ...(e.callId ? { callId: e.callId } : {}),
  ...(e.toolName ? { toolName: e.toolName } : {}),
});

const byTime = (a: TranscriptItem, b: TranscriptItem) => a.at - b.at || (a.itemId < b.itemId ? -1 : 1);

/**
 * The transcript store on Table Storage (row layout and the idempotency argument: ./keys.ts).
 * Writes go out as entity-group transactions of upserts, so an append of n items costs ⌈n/100⌉ requests
 * (one more, a point read, only when a second process continues a session another one started).
 */
/** Session starts one store remembers; far more than the sessions a worker holds at once. */
const MAX_KNOWN_STARTS = 5000;

export function createHistoryStore(config: StorageConfig, opts: HistoryStoreOptions = {}): MemoryStore {
  const client = opts.client ?? tableClient(config, TABLES.history);
  /**
   * partitionKey|sessionId → session start, known once this process has written or read the marker. Bounded
   * (oldest first out) so a long-lived worker does not keep every session it ever saw; a forgotten start
   * costs one 409 and a point read the next time that session appends.
   */
  const starts = new Map<string, number>();
  const rememberStart = (key: string, at: number) => {
    starts.delete(key);
    starts.set(key, at);
    if (starts.size > (opts.maxKnownStarts ?? MAX_KNOWN_STARTS)) starts.delete(starts.keys().next().value!);
  };

  async function readStart(pk: string, sessionId: string): Promise<number | undefined> {
    try {
      return (await client.getEntity<SessionEntity>(pk, sessionRowKey(sessionId))).startAt;
    } catch (err) {
      if (isStorageStatus(err, 404)) return undefined;
      throw err;
    }
  }

  const itemRow = (pk: string, startAt: number, it: TranscriptItem): ItemEntity => {
    const text = it.text.length > MAX_TEXT_CHARS ? it.text.slice(0, MAX_TEXT_CHARS) : it.text;
    return {
      partitionKey: pk,
      rowKey: itemRowKey(startAt, it.sessionId, it.itemId),
      kind: 'item',
      itemId: it.itemId,
      sessionId: it.sessionId,
      agentId: it.agentId,
      role: it.role,
      text,
      at: it.at,
      atKey: atKey(it.at),
      ...(text !== it.text ? { truncated: true } : {}),
      ...(it.callId ? { callId: it.callId } : {}),
      ...(it.toolName ? { toolName: it.toolName } : {}),
    };
  };

  const upserts = (pk: string, startAt: number, list: TranscriptItem[]): TransactionAction[] =>
    list.map((it) => ['upsert', itemRow(pk, startAt, it), 'Replace']);

  /**
   * One session's items. The first append this process makes for a session assumes the session is new and
   * creates its marker in the same transaction as the first items (no read). If the marker already exists
   * (another worker wrote it: a re-attach), the transaction fails as a whole with 409, nothing is written,
   * and the stored start is read and used instead — so the common case costs no extra request.
   */
  async function appendSession(pk: string, sessionId: string, list: TranscriptItem[]) {
    const key = `${pk}|${sessionId}`;
    let startAt = starts.get(key);
    if (startAt === undefined) {
      const guess = list.reduce((m, it) => Math.min(m, it.at), Infinity);
      const marker: SessionEntity = {
        partitionKey: pk,
        rowKey: sessionRowKey(sessionId),
        kind: 'session',
        sessionId,
        agentId: list[0]!.agentId,
        startAt: guess,
        at: guess,
        atKey: atKey(guess),
      };
      const [first = [], ...rest] = chunkActions([['create', marker], ...upserts(pk, guess, list)]);
      try {
        await client.submitTransaction(first);
        rememberStart(key, guess);
        await submit(rest.flat());
        return;
      } catch (err) {
        if (!isStorageStatus(err, 409)) throw err;
        startAt = await readStart(pk, sessionId);
        if (startAt === undefined) throw err; // deleted between the two calls: let the caller retry
        rememberStart(key, startAt);
      }
    }
    await submit(upserts(pk, startAt, list));
  }

  /** One upsert goes alone: the same write as a transaction of one, without the multipart round trip around it. */
  async function submit(actions: TransactionAction[]) {
    for (const batch of chunkActions(actions)) {
      const [only, ...more] = batch;
      if (only && !more.length && only[0] === 'upsert') await client.upsertEntity(only[1], only[2]);
      else await client.submitTransaction(batch);
    }
  }

  /** Deletes rows in transactions; a row already gone (a concurrent purge) is not an error. */
  async function deleteRows(pk: string, rowKeys: string[]): Promise<number> {
    let removed = 0;
    for (const batch of chunkActions(rowKeys.map((rowKey) => ['delete', { partitionKey: pk, rowKey }]))) {
      try {
        await client.submitTransaction(batch);
        removed += batch.length;
      } catch (err) {
        if (!isStorageStatus(err, 404)) throw err;
        for (const [, e] of batch) {
          try {
            await client.deleteEntity(e.partitionKey, e.rowKey);
            removed++;
          } catch (inner) {
            if (!isStorageStatus(inner, 404)) throw inner;
          }
        }
      }
    }
    return removed;
  }

  /** Deletes every row matching `filter`, per partition, counting by kind. */
  async function removeWhere(filter: string): Promise<Map<string, Omit<Removal, 'partition'>>> {
    const found = new Map<string, { keys: string[]; removal: Omit<Removal, 'partition'> }>();
    for await (const e of client.listEntities<{ kind?: Kind; sessionId?: string }>({
      queryOptions: { filter, select: ['PartitionKey', 'RowKey', 'kind', 'sessionId'] },
    })) {
      const pk = e.partitionKey!;
      let entry = found.get(pk);
      if (!entry) found.set(pk, (entry = { keys: [], removal: emptyRemoval() }));
      entry.keys.push(e.rowKey!);
      if (e.kind === 'item') entry.removal.items++;
      else if (e.kind === 'summary') entry.removal.summaries++;
      else if (e.kind === 'session' && e.sessionId) entry.removal.sessionIds.push(e.sessionId);
    }
    const out = new Map<string, Omit<Removal, 'partition'>>();
    for (const [pk, { keys, removal }] of found) {
      for (const k of [...starts.keys()]) if (k.startsWith(`${pk}|`)) starts.delete(k);
      removal.total = await deleteRows(pk, keys);
      out.set(pk, removal);
    }
    return out;
  }

  const store: MemoryStore = {
    async append(partition, items) {
      if (!items.length) return;
      const pk = partitionKey(partition);
      // The same item twice in one call is one row (and one transaction may not touch a row twice).
      const bySession = new Map<string, Map<string, TranscriptItem>>();
      for (const it of items) {
        const m = bySession.get(it.sessionId) ?? new Map<string, TranscriptItem>();
        m.set(it.itemId, it);
        bySession.set(it.sessionId, m);
      }
      for (const [sessionId, m] of bySession) await appendSession(pk, sessionId, [...m.values()]);
    },

    async forSession(partition, sessionId) {
      const pk = partitionKey(partition);
      let filter: string;
      try {
        const marker = await client.getEntity<SessionEntity>(pk, sessionRowKey(sessionId));
        const r = prefixRange(sessionPrefix(marker.startAt, sessionId));
        filter = odata`PartitionKey eq ${pk} and RowKey ge ${r.ge} and RowKey lt ${r.lt} and sessionId eq ${sessionId}`;
      } catch (err) {
        if (!isStorageStatus(err, 404)) throw err;
        // No marker (never written, or purged): fall back to a filter over the partition's items.
        const r = prefixRange(ITEM_PREFIX);
        filter = odata`PartitionKey eq ${pk} and RowKey ge ${r.ge} and RowKey lt ${r.lt} and sessionId eq ${sessionId}`;
      }
      const out: TranscriptItem[] = [];
      for await (const e of client.listEntities<ItemEntity>({ queryOptions: { filter } })) out.push(toItem(e));
      return out.sort(byTime);
    },

    async recent(partition, agentId, limit) {
      if (limit <= 0) return [];
      const pk = partitionKey(partition);
      const r = prefixRange(ITEM_PREFIX);
      const filter = odata`PartitionKey eq ${pk} and RowKey ge ${r.ge} and RowKey lt ${r.lt} and agentId eq ${agentId}`;
      // Newest session first; a session's rows are contiguous. Read whole sessions until `limit` is covered.
      const out: TranscriptItem[] = [];
      let current: string | undefined;
      for await (const e of client.listEntities<ItemEntity>({ queryOptions: { filter } })) {
        if (e.sessionId !== current) {
          if (out.length >= limit) break;
          current = e.sessionId;
        }
        out.push(toItem(e));
      }
      return out.sort(byTime).slice(-limit);
    },

    async listSessions(partition) {
      const pk = partitionKey(partition);
      const r = prefixRange(SESSION_PREFIX);
      const filter = odata`PartitionKey eq ${pk} and RowKey ge ${r.ge} and RowKey lt ${r.lt}`;
      const ids: string[] = [];
      for await (const e of client.listEntities<SessionEntity>({ queryOptions: { filter, select: ['sessionId'] } })) {
        ids.push(e.sessionId);
      }
      return ids;
    },

    async deleteAll(partition) {
      return (await store.deletePartition(partition)).total;
    },

    async deletePartition(partition) {
      const pk = partitionKey(partition);
      const r = await removeWhere(odata`PartitionKey eq ${pk}`);
      return { ...(r.get(pk) ?? emptyRemoval()), partition };
    },

    async purgeBefore(beforeMs) {
      return (await store.purgeBeforeDetailed(beforeMs)).reduce((n, r) => n + r.total, 0);
    },

    async purgeBeforeDetailed(beforeMs) {
      // Every row kind carries atKey (item: completed, marker: session start, summary: last rewrite).
      const r = await removeWhere(odata`atKey lt ${atKey(beforeMs)}`);
      return [...r].map(([pk, removal]) => ({ ...removal, partition: pk }));
    },

    async getSummary(partition, agentId) {
      try {
        const e = await client.getEntity<SummaryEntity>(partitionKey(partition), summaryRowKey(agentId));
        return {
          agentId: e.agentId,
          text: e.text,
          updatedAt: e.at,
          sessions: e.sessions,
          ...(e.lastSessionId ? { lastSessionId: e.lastSessionId } : {}),
          recentSessionIds: e.recentSessionIds ? e.recentSessionIds.split(',').filter(Boolean) : [],
          etag: e.etag,
        };
      } catch (err) {
        if (isStorageStatus(err, 404)) return undefined;
        throw err;
      }
    },

    async putSummary(partition, s: RollingSummary, opts = {}) {
      const row: SummaryEntity = {
        partitionKey: partitionKey(partition),
        rowKey: summaryRowKey(s.agentId),
        kind: 'summary',
        agentId: s.agentId,
        text: s.text.slice(0, MAX_TEXT_CHARS),
        at: s.updatedAt,
        atKey: atKey(s.updatedAt),
        sessions: s.sessions,
        ...(s.lastSessionId ? { lastSessionId: s.lastSessionId } : {}),
        ...(s.recentSessionIds?.length
          ? { recentSessionIds: s.recentSessionIds.slice(-RECENT_SESSION_IDS).join(',') }
          : {}),
      };
      try {
        if (opts.etag === undefined) await client.upsertEntity(row, 'Replace');
        else if (opts.etag === null) await client.createEntity(row);
        else await client.updateEntity(row, 'Replace', { etag: opts.etag });
      } catch (err) {
        if (isStorageStatus(err, 409) || isStorageStatus(err, 412))
          throw new SummaryConflictError(partition, s.agentId);
        throw err;
      }
    },
  };
  return store;
}
