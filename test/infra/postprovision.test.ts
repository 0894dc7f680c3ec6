/**
 * The azd postprovision hook's work against a real Table service (Azurite on a free port): tables created, the
 * shipped agents and tool data seeded, idempotent on a second run; and its 403 retry stays bounded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from '../../dev/azurite';
import { createAgentStore, loadAgentFiles } from '../../shared/agents/store';
import { TABLES, tableServiceClient } from '../../shared/storage/tables';
import { provisionData, withRoleRetry } from '../../infra/hooks/provision-data';

let azurite: Azurite;
beforeAll(async () => {
  azurite = await startAzurite();
});
afterAll(async () => {
  await azurite?.stop();
});

const quiet = { log: () => {} };

describe('postprovision data', () => {
  it('creates every table and seeds every shipped agent, twice without harm', async () => {
    const config = { STORAGE_CONNECTION_STRING: azurite.connectionString };
    const shipped = (await loadAgentFiles()).map((a) => a.id).sort();
    expect(shipped.length).toBeGreaterThan(0);

    const first = await provisionData(config, quiet);
    const second = await provisionData(config, quiet);
    expect(first.agents.sort()).toEqual(shipped);
    expect(second).toEqual(first);

    const tables: string[] = [];
    for await (const t of tableServiceClient(config).listTables()) tables.push(t.name!);
    expect(Object.values(TABLES).filter((t) => !tables.includes(t))).toEqual([]);
    const stored = (await createAgentStore(config).list()).map((a) => a.id).sort();
    expect(stored).toEqual(shipped);
  });
});

describe('withRoleRetry', () => {
  const forbidden = () => Object.assign(new Error('AuthorizationPermissionMismatch'), { statusCode: 403 });

  it('retries 403 while the role assignment propagates, then succeeds', async () => {
    let calls = 0;
    const sleeps: number[] = [];
    await withRoleRetry(
      {
        name: 't',
        run: async () => {
          if (++calls < 3) throw forbidden();
        },
      },
      {
        ...quiet,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    );
    expect(calls).toBe(3);
    expect(sleeps).toEqual([5_000, 10_000]);
  });

  it('gives up after the retry window and fails at once on anything but 403', async () => {
    await expect(
      withRoleRetry(
        {
          name: 't',
          run: async () => {
            throw forbidden();
          },
        },
        { ...quiet, retryForMs: 0, sleep: async () => {} },
      ),
    ).rejects.toThrow('AuthorizationPermissionMismatch');
    let calls = 0;
    await expect(
      withRoleRetry(
        {
          name: 't',
          run: async () => {
            calls++;
            throw Object.assign(new Error('boom'), { statusCode: 500 });
          },
        },
        { ...quiet, sleep: async () => {} },
      ),
    ).rejects.toThrow('boom');
    expect(calls).toBe(1);
  });
});
