import { describe, expect, it } from 'vitest';
import { PartitionBatcher, type KeyedRow } from '../../shared/stores/partition-batcher';

type Row = KeyedRow & { v: number };
const row = (rowKey: string, v = 0, partitionKey = 'p'): Row => ({ partitionKey, rowKey, v });
const failure = (statusCode: number) => Object.assign(new Error(`status ${statusCode}`), { statusCode });

function setup(opts: {
  mergeSameRow: boolean | ((r: Row) => boolean);
  failBatch?: number;
  failAlone?: (r: Row) => number | undefined;
  lingerMs?: number;
}) {
  const calls: string[] = [];
  let release: (() => void) | undefined;
  let hold = false;
  const b = new PartitionBatcher<Row>({
    batch: async (rows) => {
      calls.push(`batch ${rows.map((r) => `${r.rowKey}=${r.v}`).join(',')}`);
      if (hold) await new Promise<void>((r) => (release = r));
      if (opts.failBatch) throw failure(opts.failBatch);
    },
    single: async (r) => {
      calls.push(`single ${r.rowKey}=${r.v}`);
      if (hold) await new Promise<void>((res) => (release = res));
      const status = opts.failAlone?.(r);
      if (status) throw failure(status);
    },
    retryAloneOn: [409],
    mergeSameRow: opts.mergeSameRow,
    lingerMs: opts.lingerMs,
  });
  return { b, calls, holdNext: (on: boolean) => (hold = on), release: () => release?.() };
}

const outcome = (p: Promise<void>) =>
  p.then(
    () => 'ok',
    (e: { statusCode?: number }) => `failed ${e.statusCode}`,
  );

describe('PartitionBatcher', () => {
  it('writes arriving while a transaction is in flight go together in the next one', async () => {
    const s = setup({ mergeSameRow: false });
    s.holdNext(true);
    const first = s.b.add(row('a'));
    await new Promise((r) => setImmediate(r));
    expect(s.calls).toEqual(['single a=0']);
    s.holdNext(false);
    const rest = [s.b.add(row('b')), s.b.add(row('c')), s.b.add(row('d', 0, 'other'))];
    await new Promise((r) => setImmediate(r));
    // The other partition does not wait for this one.
    expect(s.calls).toEqual(['single a=0', 'single d=0']);
    s.release();
    await Promise.all([first, ...rest]);
    expect(s.calls).toEqual(['single a=0', 'single d=0', 'batch b=0,c=0']);
  });

  it('a conflict fails the transaction as a whole: each row is written alone and answers for itself', async () => {
    const s = setup({ mergeSameRow: false, failBatch: 409, failAlone: (r) => (r.rowKey === 'b' ? 409 : undefined) });
    const out = await Promise.all(['a', 'b', 'c'].map((k) => outcome(s.b.add(row(k)))));
    expect(out).toEqual(['ok', 'failed 409', 'ok']);
    expect(s.calls).toEqual(['batch a=0,b=0,c=0', 'single a=0', 'single b=0', 'single c=0']);
  });

  it('any other failure fails every row of the transaction, with no second attempt', async () => {
    const s = setup({ mergeSameRow: false, failBatch: 503 });
    const out = await Promise.all(['a', 'b'].map((k) => outcome(s.b.add(row(k)))));
    expect(out).toEqual(['failed 503', 'failed 503']);
    expect(s.calls).toEqual(['batch a=0,b=0']);
  });

  it('the same row twice: merged into its last version, or (inserts) left for the next transaction', async () => {
    const merged = setup({ mergeSameRow: true });
    await Promise.all([merged.b.add(row('a', 1)), merged.b.add(row('a', 2)), merged.b.add(row('b', 1))]);
    expect(merged.calls).toEqual(['batch a=2,b=1']);
    const apart = setup({ mergeSameRow: false, failAlone: (r) => (r.v === 2 ? 409 : undefined) });
    const out = await Promise.all([outcome(apart.b.add(row('a', 1))), outcome(apart.b.add(row('a', 2)))]);
    expect(out).toEqual(['ok', 'failed 409']);
    expect(apart.calls).toEqual(['single a=1', 'single a=2']);
  });

  it('a lingering write rides along with the next urgent write of its partition', async () => {
    // A linger far longer than the test: only the urgent write can have carried it.
    const s = setup({ mergeSameRow: (r) => r.v > 0, lingerMs: 60_000 });
    const mark = s.b.add(row('m', 1), { linger: true });
    await new Promise((r) => setImmediate(r));
    expect(s.calls).toEqual([]);
    await Promise.all([mark, s.b.add(row('c'))]);
    expect(s.calls).toEqual(['batch m=1,c=0']);
  });

  it('a lingering write alone goes by itself once its linger is over', async () => {
    const s = setup({ mergeSameRow: true, lingerMs: 20 });
    const started = Date.now();
    await s.b.add(row('m', 1), { linger: true });
    expect(s.calls).toEqual(['single m=1']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(15);
  });

  it('rows that may merge merge; an insert of the same row waits for the next transaction', async () => {
    const s = setup({ mergeSameRow: (r) => r.v > 0, failAlone: (r) => (r.v === 0 ? 409 : undefined) });
    const out = await Promise.all([
      outcome(s.b.add(row('a', 1))),
      outcome(s.b.add(row('a', 2))),
      outcome(s.b.add(row('a', 0))),
    ]);
    // The two merges are one write (its last version); the insert of the same row is not folded into it.
    expect(out).toEqual(['ok', 'ok', 'failed 409']);
    expect(s.calls).toEqual(['single a=2', 'single a=0']);
  });
});
