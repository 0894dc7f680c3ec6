import type { HistoryStore, TranscriptItem } from '../shared/memory/types';

export interface TranscriptBatcherOptions {
  history: Pick<HistoryStore, 'append'>;
  /** Items per partition per write (a Table transaction holds at most 100 operations). */
  maxBatch?: number;
  /** Items kept per partition while storage is failing; the oldest are dropped (and counted) beyond it. */
  maxBuffered?: number;
  log?: (line: string) => void;
  /**
   * Writes in flight during a flush: `min` normally, doubling (up to `max`) while a flush takes longer than
   * `passTargetMs` and the last doubling paid for itself, halving again once flushes are quick. Each write's
   * serialization, signing and answer are synchronous work on the worker's one thread; many at once hold back every
   * live session's events (measured in bench:tool-overhead: at 500 sessions a read-only tool's p99 was 1.0× the
   * in-memory worker's with 2 in flight, 1.5× with 4, 4.4× with 8 and 9.4× with 64). And on a store that is already
   * busy, more lanes write no faster: they only lengthen the queue that a tool's claim waits in.
   */
  lanes?: { min: number; max: number; passTargetMs: number };
  now?: () => number;
}

const DEFAULT_LANES = { min: 2, max: 32, passTargetMs: 1000 };
/** More lanes must write at least this much faster than half as many did, or the store is the limit. */
const LANES_PAYOFF = 1.25;
/** A throughput measured longer ago than this says little about the store's load now. */
const RATE_MEMORY_MS = 30_000;

/**
 * Collects completed transcript items per history partition and writes them in batches. Driven by the
 * worker's shared tick (no timer per session); `flush()` also runs on detach and drain. Writes are
 * idempotent by item id (HistoryStore), so a retried batch, or a re-attached worker writing an item again,
 * never duplicates anything.
 */
export class TranscriptBatcher {
  private readonly pending = new Map<string, TranscriptItem[]>();
  private flushing: Promise<void> | undefined;
  dropped = 0;
  written = 0;
  writes = 0;
  /** Writes the next flush keeps in flight (see `lanes`). */
  lanes: number;
  /** Writes per ms of the last slow pass at each lane count, and when it was measured. */
  private readonly rates = new Map<number, { rate: number; at: number }>();

  constructor(private readonly opts: TranscriptBatcherOptions) {
    this.lanes = (opts.lanes ?? DEFAULT_LANES).min;
  }

  add(partition: string, item: TranscriptItem): void {
    const list = this.pending.get(partition) ?? [];
    list.push(item);
    const max = this.opts.maxBuffered ?? 5000;
    if (list.length > max) this.dropped += list.splice(0, list.length - max).length;
    this.pending.set(partition, list);
  }

  get size(): number {
    let n = 0;
    for (const l of this.pending.values()) n += l.length;
    return n;
  }

  /** Writes everything pending; concurrent calls share one pass. Failed partitions stay pending for the next. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flush());
    if (this.pending.size === 0) return Promise.resolve();
    this.flushing = this.flushOnce().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  /**
   * Writes one partition's pending items now, outside the tick: a tool call makes the turn that led to it
   * durable before the tool runs, so a worker killed mid-tool loses nothing that was said.
   */
  async flushPartition(partition: string): Promise<void> {
    const items = this.pending.get(partition);
    if (!items?.length) return;
    this.pending.delete(partition);
    await this.writePartition(partition, items);
  }

  private async flushOnce(): Promise<void> {
    const batch = [...this.pending.entries()];
    this.pending.clear();
    const now = this.opts.now ?? Date.now;
    const started = now();
    const writesBefore = this.writes;
    let next = 0;
    const lane = async () => {
      for (let entry = batch[next++]; entry; entry = batch[next++]) await this.writePartition(entry[0], entry[1]);
    };
    await Promise.all(Array.from({ length: Math.min(this.lanes, batch.length) }, lane));
    this.adjustLanes(now() - started, this.writes - writesBefore, now());
  }

  /**
   * A slow pass doubles the lanes unless twice as many are known to have written no faster; a pass at a lane
   * count that writes no faster than half as many did halves them again. Quick passes drop back to the minimum.
   */
  private adjustLanes(took: number, writes: number, at: number) {
    const { min, max, passTargetMs } = this.opts.lanes ?? DEFAULT_LANES;
    const known = (lanes: number) => {
      const r = this.rates.get(lanes);
      return r && at - r.at <= RATE_MEMORY_MS ? r.rate : undefined;
    };
    if (took <= passTargetMs) {
      if (took < passTargetMs / 4) this.lanes = Math.max(min, Math.floor(this.lanes / 2));
      return;
    }
    const rate = writes / Math.max(took, 1);
    this.rates.set(this.lanes, { rate, at });
    const half = known(Math.floor(this.lanes / 2));
    const double = known(this.lanes * 2);
    if (this.lanes > min && half !== undefined && rate < half * LANES_PAYOFF)
      this.lanes = Math.max(min, Math.floor(this.lanes / 2));
    else if (this.lanes < max && (double === undefined || double >= rate * LANES_PAYOFF))
      this.lanes = Math.min(max, this.lanes * 2);
  }

  private async writePartition(partition: string, items: TranscriptItem[]): Promise<void> {
    const maxBatch = this.opts.maxBatch ?? 100;
    for (let i = 0; i < items.length; i += maxBatch) {
      const chunk = items.slice(i, i + maxBatch);
      try {
        await this.opts.history.append(partition, chunk);
        this.written += chunk.length;
        this.writes++;
      } catch (err) {
        this.opts.log?.(`transcript write failed (${chunk.length} items kept): ${(err as Error).message}`);
        const rest = items.slice(i);
        this.pending.set(partition, [...rest, ...(this.pending.get(partition) ?? [])]);
        return;
      }
    }
  }
}
