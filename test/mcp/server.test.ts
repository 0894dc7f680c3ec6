import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { tableClient, TABLES } from '../../shared/storage/tables';
import { startRunner } from '../../emulators/functions-host/runner';
import { createDeps } from '../../functions/deps';
import { buildRoutes } from '../../functions/routes';
import { loadFunctionsConfig } from '../../shared/config/index';
import { agentSchema } from '../../shared/agents/schema';
import { createToolGateway } from '../../shared/mcp/gateway';
import {
  BUILTIN_AUDIENCE,
  CALLER_HEADER,
  identityKey,
  SessionCaller,
  signCallerToken,
} from '../../shared/mcp/identity';

const textOf = (r: unknown) =>
  (((r as { content?: unknown }).content as { type: string; text: string }[]) ?? []).map((c) => c.text).join('\n');

describe('built-in MCP server (functions/mcp) checked with the official SDK client', () => {
  let stack: Stack;
  let client: Client;
  let mcpUrl: string;
  let token: string;
  const maya = { subject: 'user:maya', customerId: 'maya', sessionId: 's-server-test', agentId: 'customer-support' };

  beforeAll(async () => {
    stack = await startStack({ ports: 'free', env: {} });
    mcpUrl = `${stack.url('functions')}/mcp`;
    // The worker's view: a signed-in customer's session token.
    token = await signCallerToken(identityKey(stack.env.WORKER_AUTH_SECRET!), maya, BUILTIN_AUDIENCE);
    client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { [CALLER_HEADER]: token } } }),
    );
  });
  afterAll(async () => {
    await client?.close();
    await stack?.stop();
  });

  it('is stateless: no session id, and lists the six tools with input schemas', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([
      'get_order',
      'get_time',
      'get_weather',
      'open_ticket',
      'search_kb',
      'verify_caller',
    ]);
    const getOrder = tools.find((t) => t.name === 'get_order')!;
    expect(getOrder.inputSchema).toMatchObject({ type: 'object', required: ['orderId'] });
    expect(getOrder.annotations?.readOnlyHint).toBe(true);
    const res = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        [CALLER_HEADER]: token,
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
  });

  it('get_order reads the order from Azurite', async () => {
    // Change the stored order so the answer can only come from the table, not from the seed file.
    const orders = tableClient({ STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING }, TABLES.orders);
    const entity = await orders.getEntity<{ data: string }>('order', '1234');
    const order = JSON.parse(entity.data);
    await orders.updateEntity(
      { partitionKey: 'order', rowKey: '1234', data: JSON.stringify({ ...order, carrier: 'Azurite Express' }) },
      'Merge',
    );

    const r = await client.callTool({ name: 'get_order', arguments: { orderId: '#1234' } });
    expect(r.isError).toBeFalsy();
    const body = JSON.parse(textOf(r));
    expect(body).toMatchObject({
      orderId: '1234',
      status: 'shipped',
      carrier: 'Azurite Express',
      customerFirstName: 'Maya',
    });
    expect(body.total).toBeCloseTo(263.5);
  });

  it('an unknown order is an isError result naming it', async () => {
    const r = await client.callTool({ name: 'get_order', arguments: { orderId: '999999' } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/No order 999999/);
  });

  it('bad arguments come back as isError, not a protocol failure', async () => {
    const r = await client.callTool({ name: 'get_order', arguments: { orderId: 1234 } });
    expect(r.isError).toBe(true);
    expect(textOf(r)).toMatch(/orderId/);
    const r2 = await client.callTool({ name: 'open_ticket', arguments: { summary: 'x', priority: 'urgent' } });
    expect(r2.isError).toBe(true);
    expect(textOf(r2)).toMatch(/summary|priority/);
  });

  it('open_ticket writes a ticket to the tickets table', async () => {
    const r = await client.callTool({
      name: 'open_ticket',
      arguments: { orderId: '1234', summary: 'Tent is six days late', priority: 'high' },
    });
    expect(r.isError).toBeFalsy();
    const { ticketId } = JSON.parse(textOf(r));
    expect(ticketId).toMatch(/^T-\d{6}$/);
    const tickets = tableClient({ STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING }, TABLES.tickets);
    const stored = JSON.parse((await tickets.getEntity<{ data: string }>('ticket', ticketId)).data);
    expect(stored).toMatchObject({
      orderId: '1234',
      customerId: 'maya',
      priority: 'high',
      status: 'open',
      summary: 'Tent is six days late',
    });

    const bad = await client.callTool({ name: 'open_ticket', arguments: { orderId: '0000', summary: 'Where is it?' } });
    expect(bad.isError).toBe(true);
    expect(textOf(bad)).toMatch(/No order 0000/);
  });

  it('search_kb, get_time and get_weather answer from their data', async () => {
    const kb = JSON.parse(
      textOf(await client.callTool({ name: 'search_kb', arguments: { query: 'how do I return boots' } })),
    );
    expect(kb.results[0]).toMatchObject({ id: 'returns-policy', summary: expect.stringContaining('30 days') });
    const time = JSON.parse(textOf(await client.callTool({ name: 'get_time', arguments: { timezone: 'Asia/Tokyo' } })));
    expect(time.timezone).toBe('Asia/Tokyo');
    expect(Math.abs(Date.parse(time.utc) - Date.now())).toBeLessThan(60_000);
    const w = JSON.parse(textOf(await client.callTool({ name: 'get_weather', arguments: { city: 'paris' } })));
    expect(w).toMatchObject({ city: 'Paris', temperatureC: 8, temperatureF: 46 });
    const unknown = await client.callTool({ name: 'get_weather', arguments: { city: 'Atlantis' } });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/Cities covered: .*London/);
  });

  it('with a function key configured (as in Azure) it refuses callers without it; the gateway sends MCP_BUILTIN_KEY', async () => {
    const config = loadFunctionsConfig(stack.env);
    const runner = await startRunner({
      routes: buildRoutes(await createDeps(config)),
      port: 0,
      functionKey: 'test-function-key',
    });
    try {
      const url = `${runner.url}/api/mcp`;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
      });
      expect(res.status).toBe(401);
      const agent = agentSchema.parse({
        id: 'keyed',
        displayName: 'k',
        instructions: 'k',
        voice: 'alloy',
        mcpServers: [{ name: 'builtin', url: 'builtin', allowedTools: ['get_weather'] }],
      });
      const call = { callId: 'c1', name: 'get_weather', arguments: '{"city":"Tokyo"}' };
      const secret = stack.env.WORKER_AUTH_SECRET!;
      const caller = new SessionCaller(maya, identityKey(secret));
      const without = createToolGateway({ MCP_BUILTIN_URL: url, WORKER_AUTH_SECRET: secret });
      expect((await without.run(agent, call, undefined, caller)).output).toMatch(/could not be reached/);
      const withKey = createToolGateway({
        MCP_BUILTIN_URL: url,
        WORKER_AUTH_SECRET: secret,
        MCP_BUILTIN_KEY: 'test-function-key',
      });
      expect(JSON.parse((await withKey.run(agent, call, undefined, caller)).output)).toMatchObject({ city: 'Tokyo' });
      await Promise.all([without.close(), withKey.close()]);
    } finally {
      await runner.close();
    }
  });

  it('GET and DELETE get a JSON-RPC 405 (no SSE stream, no sessions)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(mcpUrl, { method, headers: { accept: 'text/event-stream' } });
      expect(res.status).toBe(405);
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32000 } });
    }
  });
});
