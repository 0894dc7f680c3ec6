import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableClient } from '../../shared/storage/tables';
import { startStack, type Stack } from '../../dev/stack';

describe('foundation: local stack with Azurite', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ ports: 'free', env: {} });
  });
  afterAll(async () => stack?.stop());

  it('writes and reads a Table entity through Azurite', async () => {
    const client = tableClient({ STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING }, 'foundationprobe');
    await client.createTable();
    await client.upsertEntity({ partitionKey: 'p', rowKey: 'r', answer: 42 });
    const e = await client.getEntity<{ answer: number }>('p', 'r');
    expect(e.answer).toBe(42);
  });

  it('answers /api/health with storage ok', async () => {
    const res = await fetch(`${stack.url('functions')}/health`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ status: 'ok', checks: { storage: { ok: true }, provider: { name: 'emulator' } } });
  });

  it('gives a JSON 404 for an unknown route and a JSON 405 for a wrong method', async () => {
    const res = await fetch(`${stack.url('functions')}/no/such/route`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect((await res.json()).error.code).toBe('not_found');
    const res2 = await fetch(`${stack.url('functions')}/health`, { method: 'DELETE' });
    expect(res2.status).toBe(405);
    expect((await res2.json()).error.code).toBe('method_not_allowed');
  });

  it('reports degraded health when storage is unreachable', async () => {
    const other = await startStack({ ports: 'free', env: {} });
    const url = other.url('functions');
    await other.services[0]!.stop(); // Azurite down, runner still up
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(503);
    expect((await res.json()).checks.storage.ok).toBe(false);
    await other.stop();
  });
});
