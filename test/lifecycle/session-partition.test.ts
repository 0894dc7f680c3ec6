import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from '../../dev/azurite';
import { reduce } from '../../shared/lifecycle/reducer';
import { createSessionPartition, LIFECYCLE_ROW, requestedOperation } from '../../shared/lifecycle/session-partition';
import { EtagConflict } from '../../shared/lifecycle/store';
import { ensureTables, tableClient, TABLES } from '../../shared/storage/tables';
import type { SessionRow } from '../../shared/stores/sessions';

/** The local lifecycle's record beside the session row on Azurite: what each write costs and what it keeps. */
let azurite: Azurite;
const config = () => ({ STORAGE_CONNECTION_STRING: azurite.connectionString });
beforeAll(async () => {
  azurite = await startAzurite();
  await ensureTables(config(), [TABLES.sessions]);
});
afterAll(async () => azurite?.stop());

function counted() {
  const client = tableClient(config(), TABLES.sessions);
  const requests: string[] = [];
  for (const m of ['createEntity', 'updateEntity', 'upsertEntity', 'submitTransaction', 'getEntity'] as const) {
    const real = client[m].bind(client) as (...a: unknown[]) => Promise<unknown>;
    (client as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => (requests.push(m), real(...a));
  }
  return { ...createSessionPartition(config(), client), requests };
}

const row = (sessionId: string, over: Partial<SessionRow> = {}): SessionRow => ({
  sessionId,
  agentId: 'customer-support',
  transport: 'webrtc',
  userId: 'u1',
  historyPartition: 'user:u1',
  state: 'requested',
  createdAt: 1000,
  model: 'gpt-realtime',
  resume: true,
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  ...over,
});
const opts = (sessionId: string) => ({ sessionId, maxReattachAttempts: 2 });

describe('session partition (session row + lifecycle record)', () => {
  it('creating a session writes the row and the record of its `requested` at once; that `requested` costs nothing', async () => {
    const p = counted();
    const r = row('p-create');
    await p.sessions.create(r);
    const first = reduce(null, requestedOperation(r), opts(r.sessionId)).record!;
    const etag = await p.lifecycle.save(first, undefined);
    expect(p.requests).toEqual(['submitTransaction']);
    expect(await p.lifecycle.load(r.sessionId)).toEqual({ record: first, etag });
    // Twice is an insert of an existing record: the ETag check refuses it.
    await expect(p.lifecycle.save(first, undefined)).rejects.toBeInstanceOf(EtagConflict);
  });

  it('a `requested` that differs from the one written with the row replaces it (ETag-checked), in one transaction', async () => {
    const p = counted();
    const r = row('p-differs');
    await p.sessions.create(r);
    const other = reduce(null, { ...requestedOperation(r), userId: 'someone-else' }, opts(r.sessionId)).record!;
    p.requests.length = 0;
    await p.lifecycle.save(other, undefined);
    expect(p.requests).toEqual(['submitTransaction']);
    expect((await p.lifecycle.load(r.sessionId))?.record.userId).toBe('someone-else');
  });

  it("a transition replaces the record and merges the row's state and timings in the same transaction", async () => {
    const p = counted();
    const r = row('p-mirror');
    await p.sessions.create(r);
    let rec = reduce(null, requestedOperation(r), opts(r.sessionId)).record!;
    let etag = await p.lifecycle.save(rec, undefined);
    // The worker's merge into the row (usage) does not touch the record's ETag.
    await p.sessions.update(r.sessionId, { inputTokens: 5 });
    for (const op of [
      { type: 'callRegistered', callId: 'rtc_1', at: 1100 },
      { type: 'attached', workerId: 'w1', at: 1200 },
      { type: 'ended', reason: 'caller hung up', at: 1300 },
      { type: 'ended', reason: 'caller hung up', at: 1400 },
    ] as const) {
      rec = reduce(rec, op, opts(r.sessionId)).record!;
      p.requests.length = 0;
      etag = await p.lifecycle.save(rec, etag);
      expect(p.requests).toEqual(['submitTransaction']);
      if (rec.state === 'live')
        expect(await p.sessions.get(r.sessionId)).toMatchObject({ state: 'live', liveAt: 1200 });
    }
    expect(await p.sessions.get(r.sessionId)).toMatchObject({
      state: 'ended',
      liveAt: 1200,
      endedAt: 1400,
      endReason: 'caller hung up',
      inputTokens: 5,
      userId: 'u1',
    });
    // A write based on a stale read fails as a whole: neither the record nor the row changes.
    const stale = reduce(rec, { ...requestedOperation(r), at: 2000 }, opts(r.sessionId)).record!;
    await expect(p.lifecycle.save(stale, 'W/"datetime\'2000-01-01T00%3A00%3A00Z\'"')).rejects.toBeInstanceOf(
      EtagConflict,
    );
    expect((await p.lifecycle.load(r.sessionId))?.record.state).toBe('ended');
    expect((await p.sessions.get(r.sessionId))?.state).toBe('ended');
    expect((await p.lifecycle.active()).map((v) => v.record.sessionId)).not.toContain(r.sessionId);
  });

  it('only active records are re-armed, and removing a session removes both rows', async () => {
    const p = counted();
    const r = row('p-remove', { transport: 'sip', userId: undefined, historyPartition: 'sip:+1555' });
    await p.sessions.create(r);
    expect((await p.lifecycle.load(r.sessionId))?.record).toMatchObject({ state: 'requested', userId: 'sip:+1555' });
    const keys: string[] = [];
    for await (const e of tableClient(config(), TABLES.sessions).listEntities({
      queryOptions: { filter: `PartitionKey eq 'p-remove'` },
    }))
      keys.push(e.rowKey!);
    expect(keys.sort()).toEqual(['', LIFECYCLE_ROW]);
    expect((await p.lifecycle.active()).map((v) => v.record.sessionId)).toContain(r.sessionId);
    await p.sessions.remove(r.sessionId);
    expect(await p.sessions.get(r.sessionId)).toBeUndefined();
    expect(await p.lifecycle.load(r.sessionId)).toBeUndefined();
    const rows: string[] = [];
    for await (const e of tableClient(config(), TABLES.sessions).listEntities({
      queryOptions: { filter: `PartitionKey eq 'p-remove'` },
    }))
      rows.push(e.rowKey!);
    expect(rows).toEqual([]);
    // Removing again is not an error.
    await expect(p.sessions.remove(r.sessionId)).resolves.toBeUndefined();
  });
});
