import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agentSchema, type AgentDefinition } from '../../shared/agents/schema';
import { loadAgentFiles } from '../../shared/agents/store';
import { createToolGateway, type McpToolGateway } from '../../shared/mcp/gateway';
import { identityKey, SessionCaller } from '../../shared/mcp/identity';
import { freePort } from '../../dev/ports';
import { startStack, type Stack } from '../../dev/stack';
import { sleep, startFakeMcp, type FakeMcp } from './fake-mcp';

const agent = (servers: unknown[], id = 'test-agent'): AgentDefinition =>
  agentSchema.parse({ id, displayName: 'Test', instructions: 'test', voice: 'alloy', mcpServers: servers });
const call = (name: string, args: unknown, callId = `call_${Math.random().toString(36).slice(2)}`) => ({
  callId,
  name,
  arguments: typeof args === 'string' ? args : JSON.stringify(args),
});
const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });

describe('tool gateway against the built-in MCP server on Azurite', () => {
  let stack: Stack;
  let gateway: McpToolGateway;
  let agents: AgentDefinition[];
  let maya: SessionCaller;
  beforeAll(async () => {
    stack = await startStack({ ports: 'free', env: {} });
    gateway = createToolGateway({
      MCP_BUILTIN_URL: stack.env.MCP_BUILTIN_URL,
      MCP_TOOL_TIMEOUT_MS: 5000,
      WORKER_AUTH_SECRET: stack.env.WORKER_AUTH_SECRET,
    });
    maya = new SessionCaller(
      { subject: 'user:maya', customerId: 'maya', sessionId: 's-gateway', agentId: 'customer-support' },
      identityKey(stack.env.WORKER_AUTH_SECRET!),
    );
    agents = await loadAgentFiles();
  });
  afterAll(async () => {
    await gateway?.close();
    await stack?.stop();
  });

  it('turns the allow-listed tools into Realtime function tools', async () => {
    const support = agents.find((a) => a.id === 'customer-support')!;
    const tools = await gateway.toolsFor(support);
    expect(tools.map((t) => (t as { name: string }).name).sort()).toEqual([
      'get_order',
      'open_ticket',
      'search_kb',
      'verify_caller',
    ]);
    const getOrder = tools.find((t) => (t as { name: string }).name === 'get_order')!;
    expect(getOrder).toMatchObject({
      type: 'function',
      description: expect.stringContaining('order'),
      parameters: { type: 'object', properties: { orderId: { type: 'string' } }, required: ['orderId'] },
    });
    expect(getOrder).not.toHaveProperty('parameters.$schema');
    const concierge = agents.find((a) => a.id === 'concierge')!;
    expect((await gateway.toolsFor(concierge)).map((t) => (t as { name: string }).name).sort()).toEqual([
      'get_time',
      'get_weather',
    ]);
  });

  it('runs get_order and returns the stored order as the output', async () => {
    const support = agents.find((a) => a.id === 'customer-support')!;
    const r = await gateway.run(support, call('get_order', { orderId: '1234' }), undefined, maya);
    expect(r.isError).toBe(false);
    expect(JSON.parse(r.output)).toMatchObject({ orderId: '1234', status: 'shipped', carrier: 'UPS' });
  });

  it('never calls a tool the agent does not allow, even one the server has', async () => {
    const concierge = agents.find((a) => a.id === 'concierge')!;
    const r = await gateway.run(concierge, call('get_order', { orderId: '1234' }), undefined, maya);
    expect(r.isError).toBe(true);
    expect(r.output).toMatch(/not available to this agent/);
    expect(r.output).not.toMatch(/shipped/);
  });
});

describe('tool gateway behaviour with test MCP servers', () => {
  const fakes: FakeMcp[] = [];
  const gateways: McpToolGateway[] = [];
  const fake = async (...args: Parameters<typeof startFakeMcp>) => {
    const f = await startFakeMcp(...args);
    fakes.push(f);
    return f;
  };
  const gw = (...args: Parameters<typeof createToolGateway>) => {
    const g = createToolGateway(...args);
    gateways.push(g);
    return g;
  };
  afterEach(async () => {
    await Promise.all(gateways.splice(0).map((g) => g.close()));
    await Promise.all(fakes.splice(0).map((f) => f.close()));
  });

  const echo = (name: string, tag = name) => ({
    name,
    input: { q: z.string() },
    run: (a: Record<string, unknown>) => text(`${tag}:${String(a.q)}`),
  });

  it('namespaces only colliding names and routes each to its own server', async () => {
    const a = await fake([echo('lookup', 'A'), echo('only_a')]);
    const b = await fake([echo('lookup', 'B'), echo('only_b')]);
    const ag = agent([
      { name: 'alpha', url: a.url, allowedTools: ['lookup', 'only_a'] },
      { name: 'beta', url: b.url, allowedTools: ['lookup', 'only_b'] },
    ]);
    const g = gw({});
    const names = (await g.toolsFor(ag)).map((t) => (t as { name: string }).name).sort();
    expect(names).toEqual(['alpha__lookup', 'beta__lookup', 'only_a', 'only_b']);
    expect((await g.run(ag, call('beta__lookup', { q: 'x' }))).output).toBe('B:x');
    expect((await g.run(ag, call('alpha__lookup', { q: 'y' }))).output).toBe('A:y');
    expect((await g.run(ag, call('only_b', { q: 'z' }))).output).toBe('only_b:z');
    // The bare colliding name is ambiguous, so it is not offered and not called.
    expect((await g.run(ag, call('lookup', { q: 'w' }))).isError).toBe(true);
    expect([...a.calls, ...b.calls].map((c) => c.name).sort()).toEqual(['lookup', 'lookup', 'only_b']);
  });

  it('an allow-list keeps other tools hidden and uncalled, whatever name the model uses', async () => {
    const s = await fake([echo('safe'), echo('delete_everything')]);
    const ag = agent([{ name: 'srv', url: s.url, allowedTools: ['safe'] }]);
    const g = gw({});
    expect((await g.toolsFor(ag)).map((t) => (t as { name: string }).name)).toEqual(['safe']);
    for (const name of ['delete_everything', 'srv__delete_everything', 'DELETE_EVERYTHING', '../delete_everything']) {
      const r = await g.run(ag, call(name, { q: 'now' }));
      expect(r.isError).toBe(true);
      expect(r.output).toMatch(/not available/);
    }
    expect(s.calls).toEqual([]);
    expect(s.methods.filter((m) => m.startsWith('tools/call'))).toEqual([]);
  });

  it('validates arguments against the input schema before calling', async () => {
    const s = await fake([{ name: 'get_order', input: { orderId: z.string().min(1) }, run: () => text('ok') }]);
    const ag = agent([{ name: 'srv', url: s.url, allowedTools: ['get_order'] }]);
    const g = gw({});
    const notJson = await g.run(ag, call('get_order', '{"orderId": '));
    expect(notJson).toMatchObject({ isError: true });
    expect(notJson.output).toMatch(/not valid JSON/);
    const missing = await g.run(ag, call('get_order', {}));
    expect(missing.isError).toBe(true);
    expect(missing.output).toMatch(/orderId/);
    const wrongType = await g.run(ag, call('get_order', { orderId: 1234 }));
    expect(wrongType.isError).toBe(true);
    expect(wrongType.output).toMatch(/string/);
    expect(s.calls).toEqual([]);
    expect((await g.run(ag, call('get_order', { orderId: '1' }))).output).toBe('ok');
    expect(s.calls).toHaveLength(1);
  });

  it('a slow tool times out into an output that tells the model what to do', async () => {
    const s = await fake([{ name: 'slow', input: {}, run: async () => (await sleep(3000), text('late')) }]);
    const ag = agent([{ name: 'srv', url: s.url, allowedTools: ['slow'] }]);
    const g = gw({ MCP_TOOL_TIMEOUT_MS: 300 });
    await g.toolsFor(ag);
    const started = Date.now();
    const r = await g.run(ag, call('slow', {}));
    expect(Date.now() - started).toBeLessThan(1500);
    expect(r.isError).toBe(true);
    expect(r.output).toMatch(/timed out.*try again/);
    expect(r.durationMs).toBeGreaterThanOrEqual(250);
  });

  it('a server that is down or broken yields an output, never a throw; other servers keep working', async () => {
    const ok = await fake([echo('fine')]);
    const broken = await fake([echo('flaky')]);
    const deadPort = await freePort();
    const ag = agent([
      { name: 'ok', url: ok.url, allowedTools: ['fine'] },
      { name: 'dead', url: `http://127.0.0.1:${deadPort}/mcp`, allowedTools: ['gone'] },
      { name: 'broken', url: broken.url, allowedTools: ['flaky'] },
    ]);
    const g = gw({});
    expect((await g.toolsFor(ag)).map((t) => (t as { name: string }).name).sort()).toEqual(['fine', 'flaky']);
    const dead = await g.run(ag, call('gone', {}));
    expect(dead.isError).toBe(true);
    expect(dead.output).toMatch(/could not be reached/);
    broken.failWith = 500;
    const r = await g.run(ag, call('flaky', { q: 'x' }));
    expect(r.isError).toBe(true);
    expect(r.output).toMatch(/could not be reached/);
    expect((await g.run(ag, call('fine', { q: 'still' }))).output).toBe('fine:still');
    // After the failure the pooled client is rebuilt: once the server recovers, calls work again.
    broken.failWith = undefined;
    expect((await g.run(ag, call('flaky', { q: 'back' }))).output).toBe('flaky:back');
  });

  it('a tool that throws or returns isError becomes an error output with its message', async () => {
    const s = await fake([
      {
        name: 'throws',
        input: {},
        run: () => {
          throw new Error('database on fire');
        },
      },
      { name: 'says_no', input: {}, run: () => ({ ...text('No order 42 was found.'), isError: true }) },
    ]);
    const ag = agent([{ name: 'srv', url: s.url, allowedTools: ['throws', 'says_no'] }]);
    const g = gw({});
    const a = await g.run(ag, call('throws', {}));
    expect(a).toMatchObject({ isError: true });
    expect(a.output).toMatch(/database on fire/);
    const b = await g.run(ag, call('says_no', {}));
    expect(b.isError).toBe(true);
    expect(b.output).toMatch(/No order 42 was found/);
  });

  it('runs a call id at most once and honours cancellation', async () => {
    let n = 0;
    const s = await fake([
      { name: 'count', input: {}, run: () => text(String(++n)) },
      { name: 'slow', input: {}, run: async () => (await sleep(2000), text('late')) },
    ]);
    const ag = agent([{ name: 'srv', url: s.url, allowedTools: ['count', 'slow'] }]);
    const g = gw({});
    const [x, y] = await Promise.all([
      g.run(ag, call('count', {}, 'call_same')),
      g.run(ag, call('count', {}, 'call_same')),
    ]);
    expect(x.output).toBe('1');
    expect(y.output).toBe('1');
    expect((await g.run(ag, call('count', {}, 'call_other'))).output).toBe('2');
    const controller = new AbortController();
    const pending = g.run(ag, call('slow', {}), controller.signal);
    setTimeout(() => controller.abort(), 100);
    const r = await pending;
    expect(r.isError).toBe(true);
    expect(r.output).toMatch(/cancelled/);
    expect(r.durationMs).toBeLessThan(1500);
  });

  it('reuses one connection and caches tools/list for the TTL, then refreshes it behind the callers', async () => {
    const s = await fake([echo('a')]);
    const ag = agent([{ name: 'srv', url: s.url, allowedTools: ['a'] }]);
    let t = 0;
    const g = gw({}, { toolsTtlMs: 1000, now: () => t });
    await g.toolsFor(ag);
    await g.toolsFor(agent([{ name: 'srv', url: s.url, allowedTools: ['a'] }], 'another-agent'));
    await g.run(ag, call('a', { q: '1' }));
    expect(s.methods.filter((m) => m === 'initialize')).toHaveLength(1);
    expect(s.methods.filter((m) => m === 'tools/list')).toHaveLength(1);
    t = 1500;
    // The expired list still answers at once; one refresh goes out behind it, however many callers ask.
    await Promise.all([g.toolsFor(ag), g.toolsFor(ag)]);
    for (let i = 0; i < 500 && s.methods.filter((m) => m === 'tools/list').length < 2; i++) await sleep(10);
    expect(s.methods.filter((m) => m === 'tools/list')).toHaveLength(2);
    expect(s.methods.filter((m) => m === 'initialize')).toHaveLength(1);
  });

  it('sends header auth from the named setting, and trace headers from the hook', async () => {
    const s = await fake([echo('a')]);
    const ag = agent([
      {
        name: 'srv',
        url: s.url,
        auth: { type: 'header', header: 'x-api-key', setting: 'MCP_SECRET_TEST_KEY' },
        allowedTools: ['a'],
      },
    ]);
    const g = gw(
      {},
      {
        secrets: { MCP_SECRET_TEST_KEY: 'k-123' },
        headers: () => ({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }),
      },
    );
    await g.run(ag, call('a', { q: '1' }));
    expect(s.headers.length).toBeGreaterThan(0);
    for (const h of s.headers) {
      expect(h['x-api-key']).toBe('k-123');
      expect(h.traceparent).toMatch(/^00-0af7/);
    }
  });

  it('sends the function key (MCP_BUILTIN_KEY) to the builtin server only', async () => {
    const builtin = await fake([echo('a')]);
    const other = await fake([echo('b')]);
    const g = gw({ MCP_BUILTIN_URL: builtin.url, MCP_BUILTIN_KEY: 'fn-key' });
    const ag = agent([
      { name: 'builtin', url: 'builtin', allowedTools: ['a'] },
      { name: 'other', url: other.url, allowedTools: ['b'] },
    ]);
    expect((await g.run(ag, call('a', { q: '1' }))).output).toBe('a:1');
    expect((await g.run(ag, call('b', { q: '2' }))).output).toBe('b:2');
    expect(builtin.headers.every((h) => h['x-functions-key'] === 'fn-key')).toBe(true);
    expect(other.headers.some((h) => 'x-functions-key' in h)).toBe(false);
  });

  it('uses a managed identity token for the scope', async () => {
    const s = await fake([echo('a')]);
    const scopes: string[] = [];
    const credential = {
      getToken: async (scope: string | string[]) => (
        scopes.push(String(scope)),
        { token: 'mi-token', expiresOnTimestamp: Date.now() + 3600_000 }
      ),
    };
    const ag = agent([
      {
        name: 'srv',
        url: s.url,
        auth: { type: 'managedIdentity', scope: 'api://tools/.default' },
        allowedTools: ['a'],
      },
    ]);
    const g = gw({}, { credential });
    await g.run(ag, call('a', { q: '1' }));
    expect(s.headers.every((h) => h.authorization === 'Bearer mi-token')).toBe(true);
    expect(scopes).toEqual(['api://tools/.default']);
  });

  it('passes unauthenticated public servers through as native mcp tools, never a secret', async () => {
    const s = await fake([echo('a')]);
    const g = gw({ MCP_BUILTIN_URL: s.url }, { secrets: { MCP_SECRET_K: 'secret-value' } });
    const tools = await g.toolsFor(
      agent([
        { name: 'pub', url: 'https://mcp.example.com/mcp', allowedTools: ['search'], public: true },
        {
          name: 'keyed',
          url: s.url,
          public: true,
          auth: { type: 'header', header: 'x-key', setting: 'MCP_SECRET_K' },
          allowedTools: ['a'],
        },
      ]),
    );
    expect(tools).toContainEqual({
      type: 'mcp',
      server_label: 'pub',
      server_url: 'https://mcp.example.com/mcp',
      allowed_tools: ['search'],
      require_approval: 'never',
    });
    // A public server that needs a secret is proxied through the worker instead.
    expect(tools).toContainEqual(expect.objectContaining({ type: 'function', name: 'a' }));
    expect(JSON.stringify(tools)).not.toContain('secret-value');
  });
});
