import { readFileSync } from 'node:fs';
import { TableClient, type TransactionAction } from '@azure/data-tables';
import { startAzurite } from '../dev/azurite';
import { percentile, report, round } from './report';

/**
 * CPU one Table request costs, on each side: in Azurite (its process's CPU time, from /proc) and in the client
 * (`@azure/data-tables` on this process's thread, `process.cpuUsage`), for the request shapes the worker sends: a
 * claim alone (insert), a delivered mark alone (merge), one transcript item (upsert), a claim with a mark riding
 * along ($batch of 2) and a full transcript batch ($batch of 10). TABLE_COST_REQUESTS per shape and round (default
 * 2000), TABLE_COST_CONCURRENCY in flight (default 8), TABLE_COST_ROUNDS (default 4, the first is warm-up); the
 * table prints the median round. Linux only (Azurite's CPU is read from /proc/<pid>/stat).
 *
 * Why: bench:tool-overhead's worker with Table stores shares a 2-core machine with Azurite, so what each request
 * costs on both sides bounds how many it can send per tool call before the machine, not the design, sets the tail.
 */
const N = Number(process.env.TABLE_COST_REQUESTS ?? 2000);
const C = Number(process.env.TABLE_COST_CONCURRENCY ?? 8);
const ROUNDS = Number(process.env.TABLE_COST_ROUNDS ?? 4);
/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

const azurite = await startAzurite();
const azuriteCpuMs = () => {
  const fields = readFileSync(`/proc/${azurite.process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / USER_HZ;
};

try {
  const client = TableClient.fromConnectionString(azurite.connectionString, 'tablecost', {
    allowInsecureConnection: true,
  });
  await client.createTable();
  let round_ = 0;
  const run = (i: number, j = 0) => ({
    partitionKey: `runs-${i % 16}`,
    rowKey: `r${round_}-${i}-${j}`,
    sessionId: `bench-${i % 500}`,
    callId: `call_${i}`,
    name: 'get_order',
    workerId: 'bench-worker',
    status: 'running',
    startedAt: Date.now(),
  });
  const item = (i: number, j = 0) => ({
    partitionKey: `user:u${i % 500}`,
    rowKey: `i_${round_}_${i}_${j}`,
    kind: 'item',
    role: 'tool',
    text: JSON.stringify({ order: '1234', status: 'shipped' }),
    at: Date.now(),
  });
  /** Each shape's request; `prepare` writes what it needs first, outside the measured window. */
  const shapes: Record<string, { prepare?: (i: number) => Promise<unknown>; op: (i: number) => Promise<unknown> }> = {
    'insert (a claim)': { op: (i) => client.createEntity(run(i)) },
    'merge (a delivered mark)': {
      prepare: (i) => client.createEntity(run(i)),
      op: (i) => client.updateEntity({ ...run(i), status: 'delivered' }, 'Merge'),
    },
    'upsert (one transcript item)': { op: (i) => client.upsertEntity(item(i), 'Replace') },
    '$batch of 2 (claim + mark)': {
      op: (i) =>
        client.submitTransaction([
          ['create', run(i)],
          ['create', run(i, 1)],
        ]),
    },
    '$batch of 10 (transcript items)': {
      op: (i) =>
        client.submitTransaction(
          Array.from({ length: 10 }, (_, j): TransactionAction => ['upsert', item(i, j), 'Replace']),
        ),
    },
  };
  const inFlight = async (fn: (i: number) => Promise<unknown>) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: C }, async () => {
        for (let i = next++; i < N; i = next++) await fn(i);
      }),
    );
  };
  const results = new Map<string, { azurite: number[]; client: number[]; wall: number[] }>();
  for (let r = 0; r < ROUNDS; r++) {
    for (const [shape, { prepare, op }] of Object.entries(shapes)) {
      round_++;
      if (prepare) await inFlight(prepare);
      const a0 = azuriteCpuMs();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await inFlight(op);
      const c = process.cpuUsage(c0);
      if (r === 0) continue; // warm-up
      const cell = results.get(shape) ?? { azurite: [], client: [], wall: [] };
      cell.azurite.push((azuriteCpuMs() - a0) / N);
      cell.client.push((c.user + c.system) / 1000 / N);
      cell.wall.push((performance.now() - t0) / N);
      results.set(shape, cell);
    }
  }
  const rows = [...results].map(([shape, cell]) => ({
    request: shape,
    'Azurite CPU ms/request': round(percentile(cell.azurite, 50), 3),
    'client CPU ms/request': round(percentile(cell.client, 50), 3),
    'wall ms/request': round(percentile(cell.wall, 50), 3),
    'Azurite CPU per round': cell.azurite.map((v) => round(v, 3)).join(' '),
  }));
  report('table-cost', rows, {
    method: `${N} requests per shape and round, ${C} in flight, ${ROUNDS - 1} measured rounds after a warm-up (median shown). Azurite CPU from /proc/<pid>/stat (${1000 / USER_HZ} ms ticks), client CPU from process.cpuUsage (the @azure/data-tables pipeline, HTTP and JSON on this thread). Wall time per request is with Azurite and the client sharing the machine.`,
  });
} finally {
  await azurite.stop();
}
