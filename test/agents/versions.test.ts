import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createAgentManager, definitionIssues, putVersion } from '../../shared/agents/manage';
import { PARTITION, VERSIONS, versionKey } from '../../shared/agents/rows';
import type { AgentDefinition } from '../../shared/agents/schema';

/** An in-memory table with Table Storage's ETag rules for the calls the agent manager makes. */
function fakeTable() {
  const rows = new Map<string, Record<string, unknown> & { etag: string }>();
  let n = 0;
  const key = (pk: string, rk: string) => `${pk}|${rk}`;
  const fail = (statusCode: number) => Object.assign(new Error(`status ${statusCode}`), { statusCode });
  const put = (e: Record<string, unknown>) =>
    rows.set(key(e.partitionKey as string, e.rowKey as string), { ...e, etag: `e${++n}` });
  return {
    rows,
    async getEntity(pk: string, rk: string) {
      const r = rows.get(key(pk, rk));
      if (!r) throw fail(404);
      return { ...r };
    },
    async createEntity(e: Record<string, unknown>) {
      if (rows.has(key(e.partitionKey as string, e.rowKey as string))) throw fail(409);
      put(e);
    },
    async upsertEntity(e: Record<string, unknown>) {
      put(e);
    },
    async updateEntity(e: Record<string, unknown>, mode: 'Merge' | 'Replace', opts: { etag: string }) {
      const r = rows.get(key(e.partitionKey as string, e.rowKey as string));
      if (!r) throw fail(404);
      if (opts.etag !== '*' && opts.etag !== r.etag) throw fail(412);
      put(mode === 'Merge' ? { ...r, ...e } : e);
    },
    async *listEntities() {
      for (const r of rows.values()) if (r.partitionKey === PARTITION) yield { ...r };
    },
  };
}

const concierge = JSON.parse(readFileSync('agents/concierge.json', 'utf8')) as AgentDefinition;
const def = (instructions: string) => definitionIssues({ ...concierge, instructions }).def!;

describe('agent versions', () => {
  it('archives the version it replaces, so a session on it can still load it', async () => {
    const table = fakeTable();
    const client = table as never;
    const now = () => 0;
    expect(await putVersion(client, def('one'), { now, ifRetired: 'skip' })).toEqual({
      outcome: 'created',
      version: 1,
    });
    expect(await putVersion(client, def('one'), { now, ifRetired: 'skip' })).toEqual({
      outcome: 'unchanged',
      version: 1,
    });
    expect(await putVersion(client, def('two'), { now, ifRetired: 'skip' })).toEqual({
      outcome: 'updated',
      version: 2,
    });
    const archived = table.rows.get(`${VERSIONS}|${versionKey('concierge', 1)}`)!;
    expect(JSON.parse(archived.definition as string).instructions).toBe('one');
    expect(JSON.parse(table.rows.get(`${PARTITION}|concierge`)!.definition as string).instructions).toBe('two');
  });

  it('of two concurrent changes one wins; the other is told to read again (409 agent_changed)', async () => {
    const table = fakeTable();
    const manager = createAgentManager({}, { client: table as never, now: () => 0 });
    await manager.create({ ...concierge, sip: { numbers: [] } }, 'ops');
    // Both read version 1; the first to write wins.
    const racing = await Promise.allSettled([
      manager.update('concierge', { ...concierge, sip: { numbers: [] }, instructions: 'a' }, 'ops-a'),
      manager.update('concierge', { ...concierge, sip: { numbers: [] }, instructions: 'b' }, 'ops-b'),
    ]);
    const won = racing.filter((r) => r.status === 'fulfilled');
    const lost = racing.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(won).toHaveLength(1);
    expect(lost.map((r) => (r.reason as { code: string }).code)).toEqual(['agent_changed']);
    expect((await manager.list())[0]).toMatchObject({ id: 'concierge', version: 2, retired: false });
  });

  it('retires and revives: a retired agent stays retired when seeded, and create brings it back as its next version', async () => {
    const table = fakeTable();
    const manager = createAgentManager({}, { client: table as never, now: () => 0 });
    await manager.create(concierge, 'ops');
    expect(await manager.retire('concierge', 'ops')).toEqual({ id: 'concierge', version: 1 });
    await expect(manager.retire('concierge', 'ops')).rejects.toMatchObject({ status: 404 });
    await expect(manager.update('concierge', concierge, 'ops')).rejects.toMatchObject({ status: 404 });
    expect(await putVersion(table as never, def('seeded'), { now: () => 0, ifRetired: 'skip' })).toMatchObject({
      outcome: 'retired',
    });
    expect(await manager.create({ ...concierge, instructions: 'back' }, 'ops')).toEqual({
      id: 'concierge',
      version: 2,
    });
    expect((await manager.list())[0]).toMatchObject({ version: 2, retired: false });
  });
});
