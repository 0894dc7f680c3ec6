import { describe, expect, it } from 'vitest';
import type { TranscriptItem } from '../../shared/memory/types';
import { TranscriptBatcher } from '../../worker/transcripts';

const item = (id: string): TranscriptItem => ({
  itemId: id,
  sessionId: 's',
  agentId: 'a',
  role: 'user',
  text: id,
  at: 1,
});

/**
 * A history store on a fake clock whose writes each take `costMs`, counting how many are in flight at once. With
 * `slots`, that many writes run side by side (`Infinity`: more writes in flight, proportionally faster); beyond
 * them writes only queue, like a store that is already at its limit.
 */
function slowHistory(clock: { t: number }, costMs: number, slots = 1) {
  const seen = { inFlight: 0, most: 0, written: new Map<string, string[]>(), failing: new Set<string>() };
  return {
    seen,
    history: {
      async append(partition: string, items: TranscriptItem[]) {
        seen.inFlight++;
        seen.most = Math.max(seen.most, seen.inFlight);
        const side = Math.min(seen.inFlight, slots);
        await new Promise((r) => setImmediate(r));
        clock.t += costMs / side;
        seen.inFlight--;
        if (seen.failing.has(partition)) throw new Error('storage down');
        seen.written.set(partition, [...(seen.written.get(partition) ?? []), ...items.map((i) => i.itemId)]);
      },
    },
  };
}

const fill = (b: TranscriptBatcher, partitions: number) => {
  for (let p = 0; p < partitions; p++) for (let i = 0; i < 3; i++) b.add(`p${p}`, item(`p${p}-${i}`));
};

describe('TranscriptBatcher', () => {
  it('writes every partition with at most `lanes` writes in flight, and keeps a failed one pending', async () => {
    const clock = { t: 0 };
    const { seen, history } = slowHistory(clock, 1);
    seen.failing.add('p7');
    const batcher = new TranscriptBatcher({
      history,
      lanes: { min: 4, max: 4, passTargetMs: 1000 },
      now: () => clock.t,
    });
    fill(batcher, 40);
    await batcher.flush();
    expect(seen.most).toBe(4);
    expect(seen.written.size).toBe(39);
    expect(seen.written.get('p3')).toEqual(['p3-0', 'p3-1', 'p3-2']);
    expect(batcher.size).toBe(3); // p7's items wait for the next flush
  });

  it('adds lanes while flushes run past their target and drops back to the minimum once they are quick', async () => {
    const clock = { t: 0 };
    const { seen, history } = slowHistory(clock, 50, Infinity);
    const batcher = new TranscriptBatcher({
      history,
      lanes: { min: 2, max: 16, passTargetMs: 1000 },
      now: () => clock.t,
    });
    const lanes: number[] = [];
    for (let pass = 0; pass < 4; pass++) {
      fill(batcher, 400); // 400 writes × 50 ms: far past one second, even 16 at a time
      await batcher.flush();
      lanes.push(batcher.lanes);
    }
    expect(lanes).toEqual([4, 8, 16, 16]);
    expect(seen.most).toBe(16);
    for (let pass = 0; pass < 4; pass++) {
      fill(batcher, 1);
      await batcher.flush();
    }
    expect(batcher.lanes).toBe(2);
  });

  it('on a store at its limit, keeps the lanes that write as fast as more would', async () => {
    const clock = { t: 0 };
    // Two writes side by side at most: a third only queues.
    const { seen, history } = slowHistory(clock, 50, 2);
    const batcher = new TranscriptBatcher({
      history,
      lanes: { min: 1, max: 16, passTargetMs: 1000 },
      now: () => clock.t,
    });
    const lanes: number[] = [];
    for (let pass = 0; pass < 6; pass++) {
      fill(batcher, 200);
      await batcher.flush();
      lanes.push(batcher.lanes);
    }
    // 1 → 2 doubled the rate; 4 wrote no faster than 2, so it went back and stays there.
    expect(lanes).toEqual([2, 4, 2, 2, 2, 2]);
    expect(seen.most).toBe(4);
    // Long after, the store may have room again: more lanes are tried once more.
    clock.t += 60_000;
    fill(batcher, 200);
    await batcher.flush();
    expect(batcher.lanes).toBe(4);
  });
});
