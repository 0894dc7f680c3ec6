import { TableClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from '../../dev/azurite';
import { createHistoryStore } from '../../shared/memory/history-store';
import { countRequests, type RequestCount } from '../../shared/memory/request-counter';
import { historyPartition, type MemoryStore, type TranscriptItem } from '../../shared/memory/types';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const item = (sessionId: string, n: number, over: Partial<TranscriptItem> = {}): TranscriptItem => ({
  itemId: `item_${sessionId}_${String(n).padStart(4, '0')}`,
  sessionId,
  agentId: 'concierge',
  role: n % 2 === 0 ? 'user' : 'assistant',
  text: `${sessionId} message ${n}`,
  at: T0 + n * 1000,
  ...over,
});

describe('history store on Azurite', () => {
  let azurite: Azurite;
  let client: TableClient;
  let store: MemoryStore;
  let count: RequestCount;
  let table = 0;

  /** A fresh table per test keeps tests independent without restarting Azurite. */
  async function fresh() {
    client = TableClient.fromConnectionString(azurite.connectionString, `history${++table}`, {
      allowInsecureConnection: true,
    });
    await client.createTable();
    count = countRequests(client);
    store = createHistoryStore({ STORAGE_CONNECTION_STRING: azurite.connectionString }, { client });
  }

  beforeAll(async () => {
    azurite = await startAzurite();
  });
  afterAll(async () => azurite?.stop());

  it('appends 150 items of one session in 2 transactions and reads them back in time order', async () => {
    await fresh();
    const p = historyPartition({ userId: 'alice' });
    const items = Array.from({ length: 150 }, (_, i) => item('s1', i)).reverse(); // order of arrival must not matter
    await store.append(p, items);
    // 2 transactions (marker + 99 items, then 51 items) and no read: a new session's marker is created
    // in the first transaction.
    expect(count.byMethod).toEqual({ BATCH: 2 });
    const back = await store.forSession(p, 's1');
    expect(back.map((i) => i.itemId)).toEqual([...items].reverse().map((i) => i.itemId));
    expect(back[0]).toEqual(items[149]);
  });

  it('remembers a bounded number of session starts: a forgotten one costs a 409 and a point read, never a wrong row', async () => {
    await fresh();
    store = createHistoryStore({ STORAGE_CONNECTION_STRING: azurite.connectionString }, { client, maxKnownStarts: 2 });
    const p = historyPartition({ userId: 'dana' });
    await store.append(p, [item('s1', 0)]);
    count.reset();
    await store.append(p, [item('s1', 1)]);
    // Known: no marker attempt, no read; one item is one upsert (a transaction of one would be the same write).
    expect(count.byMethod).toEqual({ PUT: 1 });
    for (const s of ['s2', 's3']) await store.append(p, [item(s, 0)]); // s1 is now the oldest beyond the cap
    count.reset();
    await store.append(p, [item('s1', 2, { at: T0 - 60_000 })]); // a guess earlier than the real start
    // The marker create fails as a whole (409), the stored start is read, the item is written under it.
    expect(count.byMethod).toEqual({ BATCH: 1, GET: 1, PUT: 1 });
    const back = await store.forSession(p, 's1');
    expect(back.map((i) => i.itemId)).toEqual(['item_s1_0002', 'item_s1_0000', 'item_s1_0001']);
    count.reset();
    await store.append(p, [item('s1', 3)]);
    expect(count.byMethod).toEqual({ PUT: 1 }); // remembered again
  });

  it('is idempotent by item id, even when the same item comes back with another time', async () => {
    await fresh();
    const p = historyPartition({ userId: 'bob' });
    await store.append(p, [item('s1', 0), item('s1', 1)]);
    // A second process (new store: no cache) re-appends item 1 with a later time and corrected text.
    const other = createHistoryStore({ STORAGE_CONNECTION_STRING: azurite.connectionString }, { client });
    count.reset();
    await other.append(p, [item('s1', 1, { at: T0 + 99_000, text: 'corrected' }), item('s1', 1)]);
    // Its optimistic marker create fails (409, nothing written), it reads the stored start and writes (the two
    // versions of item 1 are one row: one upsert).
    expect(count.byMethod).toEqual({ BATCH: 1, GET: 1, PUT: 1 });
    const back = await store.forSession(p, 's1');
    expect(back).toHaveLength(2);
    expect(back.map((i) => i.text)).toEqual(['s1 message 0', 's1 message 1']);
    let rows = 0;
    for await (const _ of client.listEntities()) rows++;
    expect(rows).toBe(3); // marker + 2 items
  });

  it('later appends of a known session are one request each', async () => {
    await fresh();
    const p = historyPartition({ userId: 'carol' });
    await store.append(p, [item('s1', 0)]);
    count.reset();
    await store.append(p, [item('s1', 1)]);
    await store.append(p, [item('s1', 2), item('s1', 3)]);
    expect(count.byMethod).toEqual({ PUT: 1, BATCH: 1 });
  });

  it('recent() returns the newest items of that agent only, oldest first, reading few pages', async () => {
    await fresh();
    const p = historyPartition({ userId: 'dave' });
    await store.append(
      p,
      Array.from({ length: 6 }, (_, i) => item('old', i)),
    );
    await store.append(
      p,
      Array.from({ length: 4 }, (_, i) => item('new', i, { at: T0 + 3_600_000 + i })),
    );
    await store.append(p, [item('other', 0, { agentId: 'billing', at: T0 + 7_200_000 })]);
    const r = await store.recent(p, 'concierge', 5);
    expect(r.map((i) => i.itemId)).toEqual([
      'item_old_0005',
      'item_new_0000',
      'item_new_0001',
      'item_new_0002',
      'item_new_0003',
    ]);
    expect(await store.recent(p, 'billing', 10)).toHaveLength(1);
    expect(await store.recent(p, 'nobody', 10)).toEqual([]);
  });

  it('keeps two users apart and deleteAll removes every row of one partition only', async () => {
    await fresh();
    const a = historyPartition({ userId: 'erin' });
    const b = historyPartition({ userId: 'frank' });
    const sip = historyPartition({ sipFrom: '+15550100' });
    await store.append(
      a,
      Array.from({ length: 120 }, (_, i) => item('sa', i)),
    );
    await store.append(b, [item('sb', 0, { text: 'frank secret' })]);
    await store.append(sip, [item('sc', 0)]);
    await store.putSummary(a, { agentId: 'concierge', text: 'Erin likes tea', updatedAt: T0, sessions: 1 });
    await store.putSummary(b, { agentId: 'concierge', text: 'Frank likes coffee', updatedAt: T0, sessions: 1 });

    expect((await store.recent(a, 'concierge', 500)).every((i) => i.sessionId === 'sa')).toBe(true);
    expect(await store.forSession(a, 'sb')).toEqual([]);

    expect(await store.deleteAll(a)).toBe(120 + 1 + 1); // items + marker + summary
    expect(await store.recent(a, 'concierge', 500)).toEqual([]);
    expect(await store.getSummary(a, 'concierge')).toBeUndefined();
    const left: string[] = [];
    for await (const e of client.listEntities()) left.push(e.partitionKey!);
    expect(left.some((pk) => pk === 'user:erin')).toBe(false);
    expect((await store.forSession(b, 'sb'))[0]?.text).toBe('frank secret');
    expect((await store.getSummary(b, 'concierge'))?.text).toBe('Frank likes coffee');
    expect(await store.forSession(sip, 'sc')).toHaveLength(1);
    // After a delete, the same session can be written again (the cached marker was dropped).
    await store.append(a, [item('sa', 500)]);
    expect(await store.forSession(a, 'sa')).toHaveLength(1);
  });

  it('purgeBefore removes only rows older than the cutoff, across partitions', async () => {
    await fresh();
    const a = historyPartition({ userId: 'gina' });
    const b = historyPartition({ userId: 'hal' });
    const day = 86_400_000;
    const now = T0 + 40 * day;
    await store.append(a, [item('old', 0), item('old', 1)]); // T0: 40 days ago
    await store.append(a, [item('fresh', 0, { at: now - day }), item('fresh', 1, { at: now - day + 1 })]);
    await store.append(b, [item('oldb', 0, { at: T0 + 5 * day })]); // 35 days ago
    await store.putSummary(a, { agentId: 'concierge', text: 'stale', updatedAt: T0, sessions: 1 });
    await store.putSummary(b, { agentId: 'concierge', text: 'current', updatedAt: now - day, sessions: 2 });

    const removed = await store.purgeBefore(now - 30 * day);
    expect(removed).toBe(2 + 1 + 1 + 1 + 1); // a: 2 items + marker + summary; b: 1 item + marker
    expect(await store.forSession(a, 'old')).toEqual([]);
    expect(await store.forSession(a, 'fresh')).toHaveLength(2);
    expect(await store.forSession(b, 'oldb')).toEqual([]);
    expect(await store.getSummary(a, 'concierge')).toBeUndefined();
    expect((await store.getSummary(b, 'concierge'))?.text).toBe('current');
    expect(await store.purgeBefore(now - 30 * day)).toBe(0);
  });

  it('splits by payload size as well as by count', async () => {
    await fresh();
    const p = historyPartition({ userId: 'ivy' });
    const big = 'é'.repeat(30_000); // 60 kB of UTF-8 each, within the 64 KiB property limit
    // 150 such items ≈ 9 MB of request body: more than two 4 MiB transactions' worth.
    await store.append(
      p,
      Array.from({ length: 150 }, (_, i) => item('s', i, { text: big })),
    );
    expect(count.byMethod.BATCH).toBeGreaterThanOrEqual(3);
    expect(await store.forSession(p, 's')).toHaveLength(150);
  });
});
