import type { HistoryStore, TranscriptItem } from '../shared/memory/types';

export interface TranscriptBatcherOptions {
  history: Pick<HistoryStore, 'append'>;
  /** Items per partition per write (a Table transaction holds at most 100 operations). */
  maxBatch?: number;
  /** Items kept per partition while storage is failing; the oldest are dropped (and counted) beyond it. */
  maxBuffered?: number;
  log?: (line: string) => void;
}

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

  constructor(private readonly opts: TranscriptBatcherOptions) {}

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
    await Promise.all(batch.map(([partition, items]) => this.writePartition(partition, items)));
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
