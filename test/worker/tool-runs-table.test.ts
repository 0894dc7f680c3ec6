import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from '../../dev/azurite';
import { tableClient } from '../../shared/storage/tables';
import { createTableToolRunStore, TOOL_RUNS_TABLE, toolRunKeys } from '../../shared/stores/tool-runs';

/** The Table tool-run store on Azurite: the claim is exclusive; writes after the send are coalesced per session. */
let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => azurite?.stop());

function countedStore() {
  const client = tableClient({ STORAGE_CONNECTION_STRING: azurite.connectionString }, TOOL_RUNS_TABLE);
  const requests: string[] = [];
  for (const m of ['createEntity', 'updateEntity', 'upsertEntity', 'submitTransaction', 'listEntities'] as const) {
    const real = client[m].bind(client) as (...a: unknown[]) => Promise<unknown>;
    (client as unknown as Record<string, unknown>)[m] = (...a: unknown[]) => (requests.push(m), real(...a));
  }
  return { store: createTableToolRunStore({ STORAGE_CONNECTION_STRING: azurite.connectionString }, client), requests };
}

const result = (output: string) => ({ output, isError: false, durationMs: 3 });

describe('Table tool-run store', () => {
  it('one claim wins; the delivered marks of one session issued together are one transaction', async () => {
    const { store, requests } = countedStore();
    await store.ensureTable();
    const claim = (callId: string, workerId: string) =>
      store.claim({ sessionId: 's-batch', callId, name: 'open_ticket', workerId, at: 1 });
    expect(await Promise.all([claim('c1', 'w1'), claim('c1', 'w2')])).toEqual(expect.arrayContaining([true, false]));
    expect(await Promise.all([claim('c2', 'w1'), claim('c3', 'w1')])).toEqual([true, true]);
    requests.length = 0;
    // A session in another partition (sessions share the runs' partitions).
    const other = ['s-o1', 's-o2', 's-o3', 's-o4'].find(
      (id) => toolRunKeys(id).partitionKey !== toolRunKeys('s-batch').partitionKey,
    )!;
    await Promise.all([
      store.markDelivered('s-batch', 'c1', result('one')),
      store.markDelivered('s-batch', 'c2', result('two')),
      store.markDelivered('s-batch', 'c3', result('three')),
      store.markDelivered(other, 'x1').catch((err: { statusCode?: number }) => err.statusCode),
    ]);
    // One transaction for the session's three rows; the other partition's row goes alone (and is not there).
    expect(requests.sort()).toEqual(['submitTransaction', 'updateEntity']);
    expect(await store.undelivered('s-batch')).toEqual([]);
  });

  it('claims of sessions sharing a partition go as one transaction; one already claimed costs only its own', async () => {
    const { store, requests } = countedStore();
    await store.ensureTable();
    const pk = toolRunKeys('s-co-0').partitionKey;
    const same = Array.from({ length: 200 }, (_, i) => `s-co-${i}`)
      .filter((id) => toolRunKeys(id).partitionKey === pk)
      .slice(0, 4);
    expect(same).toHaveLength(4);
    const claim = (sessionId: string, workerId = 'w1') =>
      store.claim({ sessionId, callId: 'call-1', name: 'open_ticket', workerId, at: 1 });
    requests.length = 0;
    expect(await Promise.all(same.slice(0, 3).map((id) => claim(id)))).toEqual([true, true, true]);
    expect(requests).toEqual(['submitTransaction']);
    // One of these was claimed above: the transaction fails as a whole, then each is claimed alone.
    requests.length = 0;
    expect(await Promise.all([claim(same[1]!, 'w2'), claim(same[3]!, 'w2')])).toEqual([false, true]);
    expect(requests.sort()).toEqual(['createEntity', 'createEntity', 'submitTransaction']);
    // Each session's runs are still its own: recovery reads one session's rows only.
    const runs = await store.undelivered(same[3]!);
    expect(runs.map((r) => [r.sessionId, r.callId, r.workerId, r.status])).toEqual([
      [same[3], 'call-1', 'w2', 'running'],
    ]);
    expect((await store.undelivered(same[1]!)).map((r) => r.workerId)).toEqual(['w1']);
  });

  it('an unsent output is stored for the next worker: over the claim, or as a new row for a retry-safe run', async () => {
    const { store } = countedStore();
    await store.ensureTable();
    await store.claim({ sessionId: 's-park', callId: 'side', name: 'open_ticket', workerId: 'w1', at: 1 });
    await store.complete('s-park', 'side', result('ticket T-1'));
    await store.complete('s-park', 'lookup', result('order shipped'), { name: 'get_order', workerId: 'w1', at: 2 });
    const runs = await store.undelivered('s-park');
    expect(runs.map(({ etag: _e, ...r }) => r).sort((a, b) => a.callId.localeCompare(b.callId))).toEqual([
      expect.objectContaining({ callId: 'lookup', name: 'get_order', status: 'done', output: 'order shipped' }),
      expect.objectContaining({ callId: 'side', name: 'open_ticket', status: 'done', output: 'ticket T-1' }),
    ]);
    // Two workers taking over the same run: one wins.
    const run = runs[0]!;
    expect(await Promise.all([store.takeOver(run, 'w2'), store.takeOver(run, 'w3')])).toEqual(
      expect.arrayContaining([true, false]),
    );
  });
});
