import { isDeepStrictEqual } from 'node:util';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { isStorageStatus, tableClient, TABLES, type StorageConfig } from '../storage/tables';
import {
  createSessionStore,
  SessionExistsError,
  sessionEntity,
  SESSION_ROW,
  type SessionPatch,
  type SessionRow,
  type SessionStore,
} from '../stores/sessions';
import type { LifecycleOperation } from './operations';
import { reduce, type LifecycleRecord } from './reducer';
import { EtagConflict, type LifecycleStore, type Versioned } from './store';

/** The lifecycle record's RowKey in its session's partition (the session row is RowKey ''). */
export const LIFECYCLE_ROW = 'lifecycle';

/**
 * The `requested` operation a new session row stands for. Both creators (POST /api/sessions, the SIP webhook)
 * signal exactly this, so the record written with the row is the one the lifecycle would write. A phone caller
 * has no user id: the lifecycle knows them by their history partition.
 */
export function requestedOperation(row: SessionRow): Extract<LifecycleOperation, { type: 'requested' }> {
  return {
    type: 'requested',
    agentId: row.agentId,
    userId: row.userId ?? row.historyPartition,
    transport: row.transport,
    at: row.createdAt,
    context: {
      historyPartition: row.historyPartition,
      resume: row.resume,
      traceparent: row.traceparent,
      ...(row.agentVersion ? { agentVersion: row.agentVersion } : {}),
    },
  };
}

/** The session row's copy of the lifecycle's state and timings (what GET /api/sessions/{id} and resume read). */
export function rowMirror(r: LifecycleRecord): SessionPatch {
  return {
    state: r.state,
    ...(r.state === 'live' ? { liveAt: r.stateSince } : {}),
    ...(r.state === 'ended' || r.state === 'failed'
      ? { endedAt: r.stateSince, ...(r.reason ? { endReason: r.reason } : {}) }
      : {}),
  };
}

const plain = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

/**
 * The local lifecycle's record lives in its session's own partition of table `sessions`, beside the session row,
 * so the two are written in one entity-group transaction: creating a session inserts the row and the record the
 * lifecycle's `requested` would write (that `requested` then costs nothing), and every transition replaces the
 * record (ETag-checked, so a write based on a stale read fails with 412 instead of overwriting) and merges the
 * row's copy of the state and timings in the same transaction — no separate mirror write, never out of step.
 * Two rows, not one: the worker and the post-session steps merge fields into the session row, and their writes
 * must not invalidate the lifecycle's ETag. In Azure the Durable entity keeps the record; there the session store
 * is the plain one.
 */
export function createSessionPartition(
  config: StorageConfig,
  client: TableClient = tableClient(config, TABLES.sessions),
): { sessions: SessionStore; lifecycle: LifecycleStore } {
  const plainSessions = createSessionStore(config, client);
  /** Records inserted with their session row and not yet claimed by the lifecycle's first save, with their ETag. */
  const created = new Map<string, { record: LifecycleRecord; etag: string }>();
  const MAX_CREATED = 10_000;

  const recordEntity = (r: LifecycleRecord) => ({
    partitionKey: r.sessionId,
    rowKey: LIFECYCLE_ROW,
    state: r.state,
    record: JSON.stringify(r),
  });

  const sessions: SessionStore = {
    ...plainSessions,
    async create(row) {
      const record = reduce(null, requestedOperation(row), {
        sessionId: row.sessionId,
        maxReattachAttempts: 0,
      }).record!;
      try {
        const res = await client.submitTransaction([
          ['create', sessionEntity(row)],
          ['create', recordEntity(record)],
        ]);
        const etag = res.subResponses[1]?.etag;
        if (etag) {
          created.set(row.sessionId, { record, etag });
          if (created.size > MAX_CREATED) created.delete(created.keys().next().value!);
        }
      } catch (err) {
        if (isStorageStatus(err, 409)) throw new SessionExistsError(row.sessionId);
        throw err;
      }
    },
    async remove(sessionId) {
      created.delete(sessionId);
      for (const rowKey of [SESSION_ROW, LIFECYCLE_ROW]) {
        try {
          await client.deleteEntity(sessionId, rowKey);
        } catch (err) {
          if (!isStorageStatus(err, 404)) throw err;
        }
      }
    },
  };

  const lifecycle: LifecycleStore = {
    async load(sessionId) {
      try {
        const e = await client.getEntity<{ record: string }>(sessionId, LIFECYCLE_ROW);
        return { record: JSON.parse(e.record) as LifecycleRecord, etag: e.etag };
      } catch (err) {
        if (isStorageStatus(err, 404)) return undefined;
        throw err;
      }
    },
    async save(record, etag) {
      const pending = created.get(record.sessionId);
      created.delete(record.sessionId);
      if (etag === undefined && pending) {
        // The record went in with the session row: the same one costs nothing, a different one replaces it.
        if (isDeepStrictEqual(plain(pending.record), plain(record))) return pending.etag;
        etag = pending.etag;
      }
      const actions: TransactionAction[] = [
        etag === undefined ? ['create', recordEntity(record)] : ['update', recordEntity(record), 'Replace', { etag }],
        // Upsert: a lifecycle write never fails for want of a row (one removed meanwhile gets only these fields).
        ['upsert', { partitionKey: record.sessionId, rowKey: SESSION_ROW, ...rowMirror(record) }, 'Merge'],
      ];
      try {
        const res = await client.submitTransaction(actions);
        return res.subResponses[0]?.etag ?? '';
      } catch (err) {
        if (isStorageStatus(err, 409, 412)) throw new EtagConflict(record.sessionId);
        throw err;
      }
    },
    async active() {
      const out: Versioned[] = [];
      const iter = client.listEntities<{ record: string }>({
        queryOptions: { filter: odata`RowKey eq ${LIFECYCLE_ROW} and state ne 'ended' and state ne 'failed'` },
      });
      for await (const e of iter) out.push({ record: JSON.parse(e.record) as LifecycleRecord, etag: e.etag });
      return out;
    },
  };
  return { sessions, lifecycle };
}

/** The lifecycle records alone (observers: tests, benches). */
export const createTableLifecycleStore = (config: StorageConfig): LifecycleStore =>
  createSessionPartition(config).lifecycle;
