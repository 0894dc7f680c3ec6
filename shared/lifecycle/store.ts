import type { LifecycleRecord } from './reducer';

/**
 * Where the local lifecycle keeps its records, written with ETag checks: a write based on a stale read fails
 * with 412 instead of overwriting. On Table Storage that is the session's own partition (./session-partition.ts);
 * in Azure the Durable entity keeps the same record as its state.
 */
export interface Versioned {
  record: LifecycleRecord;
  etag: string;
}

export class EtagConflict extends Error {
  constructor(readonly sessionId: string) {
    super(`lifecycle record of ${sessionId} changed underneath (ETag mismatch)`);
    this.name = 'EtagConflict';
  }
}

export interface LifecycleStore {
  load(sessionId: string): Promise<Versioned | undefined>;
  /** Insert when `etag` is undefined, else replace if the row still has that ETag. Returns the new ETag. */
  save(record: LifecycleRecord, etag: string | undefined): Promise<string>;
  /** Records not yet ended or failed (a restarted local runner re-arms their watchdogs). */
  active(): Promise<Versioned[]>;
}

/** Same contract in memory (unit tests). `writes` counts storage transactions. */
export function createMemoryLifecycleStore(): LifecycleStore & {
  rows: Map<string, Versioned>;
  writes: number;
  reads: number;
} {
  const rows = new Map<string, Versioned>();
  let n = 0;
  const store = {
    rows,
    writes: 0,
    reads: 0,
    async load(id: string) {
      store.reads++;
      const v = rows.get(id);
      return v && { record: structuredClone(v.record), etag: v.etag };
    },
    async save(record: LifecycleRecord, etag: string | undefined) {
      const cur = rows.get(record.sessionId);
      if ((etag === undefined && cur) || (etag !== undefined && cur?.etag !== etag))
        throw new EtagConflict(record.sessionId);
      store.writes++;
      const next = String(++n);
      rows.set(record.sessionId, { record: structuredClone(record), etag: next });
      return next;
    },
    async active() {
      return [...rows.values()].filter((v) => v.record.state !== 'ended' && v.record.state !== 'failed');
    },
  };
  return store;
}
