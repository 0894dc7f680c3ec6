import { odata, RestError, type TableClient, type TableEntity, type TransactionAction } from '@azure/data-tables';
import { tableClient, TABLES, type StorageConfig } from '../storage/tables';
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
}

/**
 * Every row also carries `atKey`, its time as a zero-padded string: retention filters on it, because a
 * string comparison means the same on every Table service, while an untyped JSON number may be stored as
 * Double and compared against an Int64 filter literal (Azure Tables does not coerce numeric types).
 */
export const atKey = (ms: number) => String(Math.max(0, Math.floor(ms))).padStart(15, '0');

const emptyRemoval = (): Omit<Removal, 'partition'> => ({ total: 0, items: 0, summaries: 0, sessionIds: [] });

const isStatus = (err: unknown, status: number) => err instanceof RestError && err.statusCode === status;

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
 * plus one point read per session the first time this process sees it.
 */
export function createHistoryStore(config: StorageConfig, opts: HistoryStoreOptions = {}): MemoryStore {
  const client = opts.client ?? tableClient(config, TABLES.history);
  /** partitionKey|sessionId → session start, so only the first append of a session reads the marker. */
  const starts = new Map<string, Promise<{ startAt: number; known: boolean }>>();

  async function sessionStart(pk: string, sessionId: string, firstAt: number) {
    const key = `${pk}|${sessionId}`;
    let p = starts.get(key);
    if (!p) {
      p = client
        .getEntity<SessionEntity>(pk, sessionRowKey(sessionId))
        .then((e) => ({ startAt: e.startAt, known: true }))
        .catch((err) => {
          if (isStatus(err, 404)) return { startAt: firstAt, known: false };
          starts.delete(key);
          throw err;
        });
      starts.set(key, p);
    }
    return p;
  }

  async function submit(actions: TransactionAction[]) {
    for (const batch of chunkActions(actions)) await client.submitTransaction(batch);
  }

  /** Deletes rows in transactions; a row already gone (a concurrent purge) is not an error. */
  async function deleteRows(pk: string, rowKeys: string[]): Promise<number> {
    let removed = 0;
    for (const batch of chunkActions(rowKeys.map((rowKey) => ['delete', { partitionKey: pk, rowKey }]))) {
      try {
        await client.submitTransaction(batch);
        removed += batch.length;
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
        for (const [, e] of batch) {
          try {
            await client.deleteEntity(e.partitionKey, e.rowKey);
            removed++;
          } catch (inner) {
            if (!isStatus(inner, 404)) throw inner;
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
      const unique = new Map<string, TranscriptItem>();
      for (const it of items) unique.set(`${it.sessionId}\u0000${it.itemId}`, it);
      const bySession = new Map<string, TranscriptItem[]>();
      for (const it of unique.values()) {
        const list = bySession.get(it.sessionId) ?? [];
        list.push(it);
        bySession.set(it.sessionId, list);
      }
      const actions: TransactionAction[] = [];
      for (const [sessionId, list] of bySession) {
        const first = list.reduce((m, it) => Math.min(m, it.at), Infinity);
        const { startAt, known } = await sessionStart(pk, sessionId, first);
        if (!known) {
          const marker: SessionEntity = {
            partitionKey: pk,
            rowKey: sessionRowKey(sessionId),
            kind: 'session',
            sessionId,
            agentId: list[0]!.agentId,
            startAt,
            at: startAt,
            atKey: atKey(startAt),
          };
          actions.push(['upsert', marker, 'Replace']);
        }
        for (const it of list) {
          const text = it.text.length > MAX_TEXT_CHARS ? it.text.slice(0, MAX_TEXT_CHARS) : it.text;
          const row: ItemEntity = {
            partitionKey: pk,
            rowKey: itemRowKey(startAt, sessionId, it.itemId),
            kind: 'item',
            itemId: it.itemId,
            sessionId,
            agentId: it.agentId,
            role: it.role,
            text,
            at: it.at,
            atKey: atKey(it.at),
            ...(text !== it.text ? { truncated: true } : {}),
            ...(it.callId ? { callId: it.callId } : {}),
            ...(it.toolName ? { toolName: it.toolName } : {}),
          };
          actions.push(['upsert', row, 'Replace']);
        }
      }
      await submit(actions);
      // The marker now exists: later appends of these sessions skip the point read.
      for (const sessionId of bySession.keys()) {
        const key = `${pk}|${sessionId}`;
        const p = starts.get(key);
        if (p) starts.set(key, p.then((s) => ({ ...s, known: true })));
      }
    },

    async forSession(partition, sessionId) {
      const pk = partitionKey(partition);
      let filter: string;
      try {
        const marker = await client.getEntity<SessionEntity>(pk, sessionRowKey(sessionId));
        const r = prefixRange(sessionPrefix(marker.startAt, sessionId));
        filter = odata`PartitionKey eq ${pk} and RowKey ge ${r.ge} and RowKey lt ${r.lt} and sessionId eq ${sessionId}`;
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
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
        if (isStatus(err, 404)) return undefined;
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
        if (isStatus(err, 409) || isStatus(err, 412)) throw new SummaryConflictError(partition, s.agentId);
        throw err;
      }
    },
  };
  return store;
}
