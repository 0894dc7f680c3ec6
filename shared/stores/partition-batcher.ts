/** A row of one Table partition, as a write carries it. */
export interface KeyedRow {
  partitionKey: string;
  rowKey: string;
}

export interface PartitionBatcherOptions<R extends KeyedRow> {
  /** Writes these rows of one partition as one entity-group transaction. */
  batch(rows: R[]): Promise<void>;
  /** Writes one row alone. */
  single(row: R): Promise<void>;
  /**
   * A transaction fails as a whole when one row fails. For these statuses (a row that conflicts, one that is gone)
   * the rows are written again one by one, so each caller gets its own row's outcome; any other failure (storage
   * down) fails them all, as each write alone would have.
   */
  retryAloneOn: number[];
  /** Transactions in flight per partition; writes arriving meanwhile queue for the next one. */
  inFlight?: number;
  /**
   * Two writes of one row in one transaction are not allowed. Where this is true for both, the last version is
   * written and answers both (merges); otherwise the later one waits for the next transaction (inserts: each
   * claimant gets its own answer).
   */
  mergeSameRow: boolean | ((row: R) => boolean);
  /** How long a write added with `linger` may wait for a transaction to ride along with (default 250 ms). */
  lingerMs?: number;
}

interface Entry<R> {
  row: R;
  urgent: boolean;
  done: (err?: unknown) => void;
}

interface Partition<R> {
  queue: Entry<R>[];
  running: number;
  scheduled: boolean;
  /** A lingering write has waited lingerMs: the next transaction goes without waiting for an urgent one. */
  overdue: boolean;
  timer?: NodeJS.Timeout;
}

const statusOf = (err: unknown) => (err as { statusCode?: number } | undefined)?.statusCode;

/**
 * Coalesces the writes of one Table partition into entity-group transactions (at most 100 rows, each row once).
 * Writes queued in the same turn of the event loop go together; while a partition's transaction is in flight, later
 * writes wait for the next one. A quick store adds no wait; a slow one gets fewer, larger round trips instead of a
 * queue of small ones. A write nobody waits on (`linger`) holds back for up to lingerMs and rides along with the
 * next urgent write of its partition: on a busy partition it costs no round trip of its own.
 */
export class PartitionBatcher<R extends KeyedRow> {
  private readonly partitions = new Map<string, Partition<R>>();

  constructor(private readonly opts: PartitionBatcherOptions<R>) {}

  add(row: R, opts: { linger?: boolean } = {}): Promise<void> {
    return new Promise((resolve, reject) => {
      let p = this.partitions.get(row.partitionKey);
      if (!p) this.partitions.set(row.partitionKey, (p = { queue: [], running: 0, scheduled: false, overdue: false }));
      const urgent = opts.linger !== true;
      p.queue.push({ row, urgent, done: (err) => (err === undefined ? resolve() : reject(err)) });
      if (urgent) this.schedule(row.partitionKey);
      else this.startLinger(row.partitionKey, p);
    });
  }

  private startLinger(partitionKey: string, p: Partition<R>) {
    if (p.timer || p.overdue) return;
    p.timer = setTimeout(() => {
      p.timer = undefined;
      p.overdue = true;
      this.schedule(partitionKey);
    }, this.opts.lingerMs ?? 250);
  }

  private schedule(partitionKey: string) {
    const p = this.partitions.get(partitionKey)!;
    if (p.scheduled || p.running >= (this.opts.inFlight ?? 1) || p.queue.length === 0) return;
    if (!p.overdue && !p.queue.some((e) => e.urgent)) return this.startLinger(partitionKey, p);
    p.scheduled = true;
    setImmediate(() => {
      p.scheduled = false;
      void this.flush(partitionKey);
    });
  }

  private mergeable(row: R): boolean {
    const m = this.opts.mergeSameRow;
    return typeof m === 'function' ? m(row) : m;
  }

  private async flush(partitionKey: string) {
    const p = this.partitions.get(partitionKey)!;
    if (p.queue.length === 0) return;
    clearTimeout(p.timer);
    p.timer = undefined;
    p.overdue = false;
    // Up to 100 distinct rows per transaction.
    const byKey = new Map<string, Entry<R>[]>();
    const later: Entry<R>[] = [];
    for (const e of p.queue) {
      const same = byKey.get(e.row.rowKey);
      if (same && this.mergeable(e.row) && this.mergeable(same.at(-1)!.row)) same.push(e);
      else if (same || byKey.size === 100) later.push(e);
      else byKey.set(e.row.rowKey, [e]);
    }
    p.queue = later;
    p.running++;
    try {
      await this.write([...byKey.values()]);
    } finally {
      p.running--;
      if (p.queue.length === 0 && p.running === 0) this.partitions.delete(partitionKey);
      else this.schedule(partitionKey);
    }
  }

  private async write(groups: Entry<R>[][]) {
    const rowOf = (g: Entry<R>[]) => g.at(-1)!.row;
    const settle = (g: Entry<R>[], err?: unknown) => g.forEach((e) => e.done(err));
    const alone = (g: Entry<R>[]) =>
      this.opts.single(rowOf(g)).then(
        () => settle(g),
        (err: unknown) => settle(g, err),
      );
    if (groups.length === 1) return alone(groups[0]!);
    try {
      await this.opts.batch(groups.map(rowOf));
      groups.forEach((g) => settle(g));
    } catch (err) {
      const status = statusOf(err);
      if (status !== undefined && this.opts.retryAloneOn.includes(status)) await Promise.all(groups.map(alone));
      else groups.forEach((g) => settle(g, err ?? new Error('transaction failed')));
    }
  }
}
