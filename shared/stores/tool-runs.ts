import { odata, type TableClient } from '@azure/data-tables';
import { isStorageStatus, tableClient, safeKey, TABLES, type StorageConfig } from '../storage/tables';

/**
 * Exactly one tool run per Realtime call id, across workers and re-attaches. A run is claimed with an
 * insert (createEntity fails with 409 for everyone but the first), its output stored before it is sent, and
 * marked delivered after. A worker that re-attaches a session re-sends stored, undelivered outputs instead of
 * running the tool again. Three transactions per tool call.
 */
export const TOOL_RUNS_TABLE = TABLES.toolruns;
/** Table string properties hold 64 KiB (32K UTF-16 chars); outputs are far smaller after the gateway truncates. */
const MAX_OUTPUT_CHARS = 30_000;

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

export interface ToolRunStore {
  /** True for exactly one caller per (session, call id). */
  claim(run: { sessionId: string; callId: string; name: string; workerId: string; at: number }): Promise<boolean>;
  complete(
    sessionId: string,
    callId: string,
    result: { output: string; isError: boolean; durationMs: number },
  ): Promise<void>;
  markDelivered(sessionId: string, callId: string): Promise<void>;
  /** Runs of a session not yet delivered (read once when a worker re-attaches). */
  undelivered(sessionId: string): Promise<ToolRun[]>;
  /** Takes responsibility for delivering a run another worker left behind; false if someone else did. */
  takeOver(run: ToolRun, workerId: string, patch?: { output: string; isError: boolean }): Promise<boolean>;
}

interface Row {
  partitionKey: string;
  rowKey: string;
  name: string;
  workerId: string;
  status: ToolRunStatus;
  output?: string;
  isError?: boolean;
  durationMs?: number;
  startedAt: number;
}

export function createTableToolRunStore(
  config: StorageConfig,
  client: TableClient = tableClient(config, TOOL_RUNS_TABLE),
): ToolRunStore & { ensureTable(): Promise<void> } {
  const fromRow = (r: Row & { etag?: string }): ToolRun => ({
    sessionId: r.partitionKey,
    callId: r.rowKey,
    name: r.name,
    workerId: r.workerId,
    status: r.status,
    output: r.output,
    isError: r.isError,
    durationMs: r.durationMs,
    startedAt: r.startedAt,
    etag: r.etag,
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
        await client.createEntity<Row>({
          partitionKey: safeKey(run.sessionId),
          rowKey: safeKey(run.callId),
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
    async complete(sessionId, callId, result) {
      await client.updateEntity(
        {
          partitionKey: safeKey(sessionId),
          rowKey: safeKey(callId),
          status: 'done',
          output: result.output.slice(0, MAX_OUTPUT_CHARS),
          isError: result.isError,
          durationMs: result.durationMs,
        },
        'Merge',
      );
    },
    async markDelivered(sessionId, callId) {
      await client.updateEntity(
        { partitionKey: safeKey(sessionId), rowKey: safeKey(callId), status: 'delivered' },
        'Merge',
      );
    },
    async undelivered(sessionId) {
      const pk = safeKey(sessionId).replace(/'/g, "''");
      const out: ToolRun[] = [];
      const iter = client.listEntities<Row>({
        queryOptions: { filter: odata`PartitionKey eq '${pk}' and status ne 'delivered'` },
      });
      for await (const r of iter) out.push(fromRow(r as Row & { etag?: string }));
      return out;
    },
    async takeOver(run, workerId, patch) {
      try {
        await client.updateEntity(
          {
            partitionKey: safeKey(run.sessionId),
            rowKey: safeKey(run.callId),
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
    async complete(sessionId, callId, result) {
      const r = runs.get(key(sessionId, callId));
      if (r) Object.assign(r, { status: 'done', ...result, etag: String(++etag) });
    },
    async markDelivered(sessionId, callId) {
      const r = runs.get(key(sessionId, callId));
      if (r) Object.assign(r, { status: 'delivered', etag: String(++etag) });
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
