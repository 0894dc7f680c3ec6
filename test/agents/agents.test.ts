import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { AgentDefinitionError, createAgentStore, loadAgentFiles, normalizeNumber } from '../../shared/agents/store';
import { tableClient, TABLES } from '../../shared/storage/tables';

const shipped = JSON.parse(readFileSync('agents/customer-support.json', 'utf8'));

async function until(fn: () => Promise<boolean>, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function dirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'agents-'));
  for (const [name, body] of Object.entries(files))
    writeFileSync(join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
  return dir;
}

async function refusal(dir: string): Promise<AgentDefinitionError> {
  const err = await loadAgentFiles(dir).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AgentDefinitionError);
  return err as AgentDefinitionError;
}

describe('agent definition files', () => {
  it('ships at least two valid agents with greetings, SIP numbers and MCP tools', async () => {
    const agents = await loadAgentFiles();
    expect(agents.length).toBeGreaterThanOrEqual(2);
    const support = agents.find((a) => a.id === 'customer-support')!;
    expect(support.mcpServers[0]!.allowedTools.sort()).toEqual([
      'get_order',
      'open_ticket',
      'search_kb',
      'verify_caller',
    ]);
    const concierge = agents.find((a) => a.id === 'concierge')!;
    expect(concierge.mcpServers[0]!.allowedTools.sort()).toEqual(['get_time', 'get_weather']);
    for (const a of agents) {
      expect(a.greeting).toBeTruthy();
      expect(a.sip.numbers.length).toBeGreaterThan(0);
    }
  });

  it('refuses a broken definition naming the file and the field', async () => {
    const err = await refusal(
      dirWith({ 'ok.json': shipped, 'broken.json': { ...shipped, id: 'other', voice: 'robot' } }),
    );
    expect(err.file).toBe('broken.json');
    expect(err.issues[0]!.field).toBe('voice');
    expect(err.message).toMatch(/^broken\.json: voice: /);

    const nested = await refusal(
      dirWith({
        'a.json': {
          ...shipped,
          mcpServers: [{ ...shipped.mcpServers[0], auth: { type: 'header', header: 'x-key', setting: 'lower-case' } }],
        },
      }),
    );
    expect(nested.issues[0]!.field).toBe('mcpServers.0.auth.setting');

    const missing = await refusal(dirWith({ 'b.json': { ...shipped, instructions: undefined } }));
    expect(missing.issues.map((i) => i.field)).toContain('instructions');

    const notJson = await refusal(dirWith({ 'c.json': '{ "id": ' }));
    expect(notJson.issues[0]!.field).toBe('(file)');
  });

  it('refuses duplicate ids, duplicate server names and a SIP number routed to two agents', async () => {
    const dupId = await refusal(dirWith({ 'a.json': shipped, 'b.json': { ...shipped, sip: { numbers: [] } } }));
    expect(dupId).toMatchObject({ file: 'b.json', issues: [{ field: 'id' }] });
    const dupServer = await refusal(
      dirWith({ 'a.json': { ...shipped, mcpServers: [shipped.mcpServers[0], shipped.mcpServers[0]] } }),
    );
    expect(dupServer.issues[0]!.field).toBe('mcpServers.1.name');
    const dupSip = await refusal(
      dirWith({
        'a.json': shipped,
        'b.json': { ...shipped, id: 'second', sip: { numbers: ['+1 800 555 0100'.replace(/ /g, '')] } },
      }),
    );
    expect(dupSip).toMatchObject({ file: 'b.json', issues: [{ field: 'sip.numbers.0' }] });
  });

  it('normalizes called numbers from SIP URIs', () => {
    expect(normalizeNumber('sip:+18005550100@sip.api.openai.com;transport=tls')).toBe('18005550100');
    expect(normalizeNumber('tel:+1-800-555-0100')).toBe('18005550100');
    expect(normalizeNumber('+18005550100')).toBe('18005550100');
  });
});

describe('agent store on Azurite and GET /api/agents', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ ports: 'free', env: {} });
  });
  afterAll(async () => stack?.stop());

  it('the stack seeds the shipped agents; get, list and bySipNumber read them', async () => {
    const store = createAgentStore({ STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING });
    expect((await store.list()).map((a) => a.id)).toEqual(['concierge', 'customer-support']);
    expect((await store.get('concierge'))?.voice).toBe('cedar');
    expect(await store.get('nobody')).toBeUndefined();
    expect((await store.bySipNumber('sip:+18005550100@sip.api.openai.com'))?.id).toBe('customer-support');
    expect((await store.bySipNumber('+18005550199'))?.id).toBe('concierge');
    expect(await store.bySipNumber('+15550000000')).toBeUndefined();
  });

  it('serves reads from memory within the TTL and sees changes after it', async () => {
    let t = 0;
    const config = { STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING };
    const store = createAgentStore(config, { ttlMs: 1000, now: () => t });
    expect((await store.get('concierge'))?.displayName).toBe('Travel concierge');
    const writer = createAgentStore(config);
    const concierge = (await writer.get('concierge'))!;
    await writer.seed([{ ...concierge, displayName: 'Night concierge' }]);
    expect((await store.get('concierge'))?.displayName).toBe('Travel concierge');
    t = 1500;
    // Past the TTL the cached copy answers at once while the table is read again behind it.
    expect((await store.get('concierge'))?.displayName).toBe('Travel concierge');
    await until(async () => (await store.get('concierge'))?.displayName === 'Night concierge');
    // Ten TTLs old, the copy is no longer served: the read is awaited.
    await writer.seed([{ ...concierge, displayName: 'Day concierge' }]);
    t = 20_000;
    expect((await store.get('concierge'))?.displayName).toBe('Day concierge');
    await writer.seed([concierge]);
  });

  it('finds an agent seeded after the list was cached, with one point read; remembers misses for the TTL', async () => {
    let t = 0;
    const config = { STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING };
    const store = createAgentStore(config, { ttlMs: 60_000, now: () => t });
    expect(await store.list()).toHaveLength(2);
    expect(await store.get('missing-agent')).toBeUndefined();
    const concierge = (await store.get('concierge'))!;
    const writer = createAgentStore(config);
    await writer.seed([
      { ...concierge, id: 'late-agent', sip: { numbers: [] } },
      { ...concierge, id: 'missing-agent', sip: { numbers: [] } },
    ]);
    t = 1000; // the list is still cached
    expect((await store.get('late-agent'))?.id).toBe('late-agent');
    expect(await store.list()).toHaveLength(3);
    // An id that missed recently is not read again until the TTL passes.
    expect(await store.get('missing-agent')).toBeUndefined();
    t = 61_000;
    expect((await store.get('missing-agent'))?.id).toBe('missing-agent');
    expect(await store.get('Not A Valid Id')).toBeUndefined();
    for (const id of ['late-agent', 'missing-agent'])
      await tableClient(config, TABLES.agents).deleteEntity('agent', id);
  });

  it('ignores a corrupted row instead of failing every read', async () => {
    const config = { STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING };
    await tableClient(config, TABLES.agents).upsertEntity({
      partitionKey: 'agent',
      rowKey: 'corrupt',
      definition: '{"id":"corrupt"}',
    });
    const lines: string[] = [];
    const store = createAgentStore(config, { log: (l) => lines.push(l) });
    expect((await store.list()).map((a) => a.id)).toEqual(['concierge', 'customer-support']);
    expect(lines.join('\n')).toMatch(/corrupt/);
    await tableClient(config, TABLES.agents).deleteEntity('agent', 'corrupt');
  });

  it('GET /api/agents lists public fields only; GET /api/agents/{id} returns one or a JSON 404', async () => {
    const res = await fetch(`${stack.url('functions')}/agents`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { agents: Record<string, unknown>[] };
    expect(body.agents.map((a) => a.id)).toEqual(['concierge', 'customer-support']);
    for (const a of body.agents) {
      expect(Object.keys(a).sort()).toEqual([
        'connect',
        'description',
        'displayName',
        'greeting',
        'id',
        'outputModalities',
        'voice',
      ]);
    }
    // The emulator provider mints browser tokens: the page takes the token flow.
    expect(new Set(body.agents.map((a) => a.connect))).toEqual(new Set(['token']));
    const raw = JSON.stringify(body);
    expect(raw).not.toMatch(/instructions|mcpServers|allowedTools|18005550100/);
    const one = await fetch(`${stack.url('functions')}/agents/concierge`);
    expect(await one.json()).toMatchObject({ id: 'concierge', voice: 'cedar' });
    const none = await fetch(`${stack.url('functions')}/agents/nobody`);
    expect(none.status).toBe(404);
    expect((await none.json()).error.code).toBe('not_found');
  });
});
