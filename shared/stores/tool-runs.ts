import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { isStorageStatus, tableClient, safeKey, TABLES, type StorageConfig } from '../storage/tables';
import { PartitionBatcher } from './partition-batcher';

/**
 * Exactly one tool run per Realtime call id, across workers and re-attaches, for tools with side effects. A run
 * is claimed with an insert (createEntity fails with 409 for everyone but the first) — the only write before the
 * tool runs. Its output goes to the model first and is stored with the `delivered` mark afterwards, off the
 * critical path; an output that could not be sent (the socket closed) is stored `done` for the session's next
 * worker to send. A worker that re-attaches a session re-sends stored outputs and answers runs still `running`
 * as interrupted, never running the tool again (an output that was in fact sent carries the same item id, so
 * the realtime service refuses the second copy). Retry-safe tools (read-only, idempotent) write nothing here
 * unless their output could not be sent.
 */
export const TOOL_RUNS_TABLE = TABLES.toolruns;
/** Table string properties hold 64 KiB (32K UTF-16 chars); outputs are far smaller after the gateway truncates. */
const MAX_OUTPUT_CHARS = 30_000;

/** running: claimed (its output may have been sent); done: output stored, not known to be sent; delivered. */
export type ToolRunStatus = 'running' | 'done' | 'delivered';

export interface ToolRun {
  sessionId: string;
  callId: string;
  name: string;
  /** The worker that ran it, or that took over delivering it. */
  workerId: string;
  status: ToolRunStatus;
  output?: string;
  isError?: boolean;
  durationMs?: number;
  startedAt: number;
  etag?: string;
}

export interface ToolOutcome {
  output: string;
  isError: boolean;
  durationMs: number;
}

export interface ToolRunStore {
  /** True for exactly one caller per (session, call id). */
  claim(run: { sessionId: string; callId: string; name: string; workerId: string; at: number }): Promise<boolean>;
  /**
   * Stores an output that could not be sent, for the next worker to deliver. `unclaimed` creates the row for a
   * retry-safe run that never had one.
   */
  complete(
    sessionId: string,
    callId: string,
    result: ToolOutcome,
    unclaimed?: { name: string; workerId: string; at: number },
  ): Promise<void>;
  /** After the output was sent; with `result`, the output is stored alongside (one write). */
  markDelivered(sessionId: string, callId: string, result?: ToolOutcome): Promise<void>;
  /** Runs of a session not yet delivered (read once when a worker re-attaches). */
  undelivered(sessionId: string): Promise<ToolRun[]>;
  /** Takes responsibility for delivering a run another worker left behind; false if someone else did. */
  takeOver(run: ToolRun, workerId: string, patch?: { output: string; isError: boolean }): Promise<boolean>;
}

// A type, not an interface: transaction actions take rows as plain records.
type Row = {
  partitionKey: string;
  rowKey: string;
  sessionId: string;
  callId: string;
  name: string;
  workerId: string;
  status: ToolRunStatus;
  output?: string;
  isError?: boolean;
  durationMs?: number;
  startedAt: number;
};

const outcome = (r: ToolOutcome) => ({
  output: r.output.slice(0, MAX_OUTPUT_CHARS),
  isError: r.isError,
  durationMs: r.durationMs,
});

type Patch = { partitionKey: string; rowKey: string } & Partial<Row>;
/** A write of the batcher: a claim's insert, or a merge (the delivered mark). */
type Write = (Row & { op: 'create' }) | (Patch & { op: 'merge' });

const action = ({ op, ...entity }: Write): TransactionAction =>
  op === 'create' ? ['create', entity] : ['update', entity, 'Merge'];

/** Partitions the runs are spread over: enough for Table's per-partition throughput, few enough to coalesce in. */
export const TOOL_RUN_PARTITIONS = 16;

/**
 * Where a session's runs live: one of TOOL_RUN_PARTITIONS partitions, shared by many sessions, so the claims and
 * delivered marks of a worker's sessions coalesce into entity-group transactions; a session's runs are one RowKey
 * range inside it (`<session>|<call>`), so recovery still reads them with one query.
 */
export function toolRunKeys(sessionId: string, callId = ''): { partitionKey: string; rowKey: string } {
  let h = 0x811c9dc5;
  for (let i = 0; i < sessionId.length; i++) h = Math.imul(h ^ sessionId.charCodeAt(i), 0x01000193);
  return {
    partitionKey: `runs-${((h >>> 0) % TOOL_RUN_PARTITIONS).toString(16)}`,
    rowKey: `${safeKey(sessionId)}|${safeKey(callId)}`,
  };
}

export function createTableToolRunStore(
  config: StorageConfig,
  client: TableClient = tableClient(config, TOOL_RUNS_TABLE),
): ToolRunStore & { ensureTable(): Promise<void> } {
  const fromRow = (r: Row & { etag?: string }): ToolRun => ({
    sessionId: r.sessionId,
    callId: r.callId,
    name: r.name,
    workerId: r.workerId,
    status: r.status,
    output: r.output,
    isError: r.isError,
    durationMs: r.durationMs,
    startedAt: r.startedAt,
    etag: r.etag,
  });
  /**
   * One batcher for the table's writes, so a partition's claims and delivered marks share transactions: a claim
   * (the one write before a tool with side effects runs) goes at once and takes the marks waiting in its partition
   * along; a mark, which nobody waits on, lingers for the next claim instead of paying a round trip of its own.
   */
  const writes = new PartitionBatcher<Write>({
    batch: (rows) => client.submitTransaction(rows.map(action)).then(() => {}),
    single: (w) => {
      const [kind, entity] = action(w);
      return (kind === 'create' ? client.createEntity(entity) : client.updateEntity(entity, 'Merge')).then(() => {});
    },
    // One row already claimed (409), or a mark's row gone with the caller's history (404), fails the whole
    // transaction and writes nothing: the rows are written one by one, each answering for itself.
    retryAloneOn: [404, 409],
    // Each claimant of a row gets its own answer; marks of one row merge.
    mergeSameRow: (w) => w.op === 'merge',
  });
  return {
    async ensureTable() {
      try {
        await client.createTable();
      } catch (err) {
        if (!isStorageStatus(err, 409)) throw err;
      }
    },
    async claim(run) {
      try {
        await writes.add({
          op: 'create',
          ...toolRunKeys(run.sessionId, run.callId),
          sessionId: run.sessionId,
          callId: run.callId,
          name: run.name,
          workerId: run.workerId,
          status: 'running',
          startedAt: run.at,
        });
        return true;
      } catch (err) {
        if (isStorageStatus(err, 409)) return false;
        throw err;
      }
    },
    async complete(sessionId, callId, result, unclaimed) {
      const row = {
        ...toolRunKeys(sessionId, callId),
        sessionId,
        callId,
        status: 'done' as const,
        ...outcome(result),
        ...(unclaimed ? { name: unclaimed.name, workerId: unclaimed.workerId, startedAt: unclaimed.at } : {}),
      };
      await (unclaimed ? client.upsertEntity(row, 'Merge') : client.updateEntity(row, 'Merge'));
    },
    markDelivered(sessionId, callId, result) {
      return writes.add(
        { op: 'merge', ...toolRunKeys(sessionId, callId), status: 'delivered', ...(result ? outcome(result) : {}) },
        { linger: true },
      );
    },
    async undelivered(sessionId) {
      const { partitionKey, rowKey } = toolRunKeys(sessionId);
      const out: ToolRun[] = [];
      // The session's RowKey range (`<session>|…`; '}' follows '|'), and its id, in case a key was escaped alike.
      const upper = `${rowKey.slice(0, -1)}}`;
      const iter = client.listEntities<Row>({
        queryOptions: {
          filter: odata`PartitionKey eq ${partitionKey} and RowKey ge ${rowKey} and RowKey lt ${upper} and sessionId eq ${sessionId} and status ne 'delivered'`,
        },
      });
      for await (const r of iter) out.push(fromRow(r as Row & { etag?: string }));
      return out;
    },
    async takeOver(run, workerId, patch) {
      try {
        await client.updateEntity(
          {
            ...toolRunKeys(run.sessionId, run.callId),
            workerId,
            ...(patch ? { status: 'done' as const, output: patch.output, isError: patch.isError } : {}),
          },
          'Merge',
          { etag: run.etag },
        );
        return true;
      } catch (err) {
        if (isStorageStatus(err, 412)) return false;
        throw err;
      }
    },
  };
}

/** In-memory store with the same semantics (unit tests, bench). */
export function createMemoryToolRunStore(): ToolRunStore & { runs: Map<string, ToolRun> } {
  const runs = new Map<string, ToolRun>();
  const key = (s: string, c: string) => `${s}\u0000${c}`;
  let etag = 0;
  return {
    runs,
    async claim(run) {
      const k = key(run.sessionId, run.callId);
      if (runs.has(k)) return false;
      runs.set(k, { ...run, status: 'running', startedAt: run.at, etag: String(++etag) });
      return true;
    },
    async complete(sessionId, callId, result, unclaimed) {
      const k = key(sessionId, callId);
      const r = runs.get(k);
      if (r) Object.assign(r, { status: 'done', ...result, etag: String(++etag) });
      else if (unclaimed)
        runs.set(k, {
          sessionId,
          callId,
          name: unclaimed.name,
          workerId: unclaimed.workerId,
          startedAt: unclaimed.at,
          status: 'done',
          ...result,
          etag: String(++etag),
        });
    },
    async markDelivered(sessionId, callId, result) {
      const r = runs.get(key(sessionId, callId));
      if (r) Object.assign(r, { status: 'delivered', ...result, etag: String(++etag) });
    },
    async undelivered(sessionId) {
      return [...runs.values()]
        .filter((r) => r.sessionId === sessionId && r.status !== 'delivered')
        .map((r) => ({ ...r }));
    },
    async takeOver(run, workerId, patch) {
      const r = runs.get(key(run.sessionId, run.callId));
      if (!r || r.etag !== run.etag) return false;
      Object.assign(r, { workerId, ...(patch ? { status: 'done', ...patch } : {}), etag: String(++etag) });
      return true;
    },
  };
}
