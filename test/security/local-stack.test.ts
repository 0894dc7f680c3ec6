import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { agentSchema } from '../../shared/agents/schema';
import { createToolGateway } from '../../shared/mcp/gateway';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ ports: 'free', env: { WORKER_REPLICAS: '2' } });
});
afterAll(async () => stack?.stop());

/** Sends raw bytes on a fresh TCP connection and hangs up without waiting for an answer. */
function sendAndAbort(url: string, raw: string): Promise<void> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(raw, () => {
        socket.destroy();
        resolve();
      });
    });
    socket.on('error', reject);
  });
}

/** Listening TCP sockets on `port` as /proc/net/tcp{,6} shows them: local address in hex. */
function listenersOn(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((f) =>
    readFileSync(f, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      // st 0A = LISTEN
      .filter((cols) => cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A')
      .map((cols) => cols[1]!.split(':')[0]!),
  );
}

describe('the local stack survives hostile requests', () => {
  it('a client that aborts a request body on the worker port does not bring the stack down', async () => {
    const worker = stack.url('worker');
    // In `npm start` an unhandled rejection ends the process; here the test process is the stack.
    const escaped: unknown[] = [];
    const onEscape = (err: unknown) => escaped.push(err);
    process.on('unhandledRejection', onEscape);
    process.on('uncaughtException', onEscape);
    for (let i = 0; i < 3; i++) {
      await sendAndAbort(
        worker,
        'POST /attach HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"sess',
      );
    }
    // The balancer still answers, and so does everything behind it.
    const health = await fetch(`${worker}/healthz`, { signal: AbortSignal.timeout(5000) });
    expect(health.status).toBe(200);
    const api = await fetch(`${stack.url('functions')}/health`, { signal: AbortSignal.timeout(5000) });
    expect(api.status).toBeLessThan(500);
    process.off('unhandledRejection', onEscape);
    process.off('uncaughtException', onEscape);
    expect(escaped.map(String)).toEqual([]);
  });

  it('a malformed % escape in a page URL is a 400, and the web server keeps serving', async () => {
    const web = stack.url('web page');
    const escaped: unknown[] = [];
    const onEscape = (err: unknown) => escaped.push(err);
    process.on('unhandledRejection', onEscape);
    const bad = await fetch(`${web}/%E0%A4%A`, { signal: AbortSignal.timeout(5000) });
    expect(bad.status).toBe(400);
    const page = await fetch(`${web}/`, { signal: AbortSignal.timeout(5000) });
    expect(page.status).toBe(200);
    process.off('unhandledRejection', onEscape);
    expect(escaped.map(String)).toEqual([]);
  });

  it('a worker replica cannot be reached from outside the machine: it listens on 127.0.0.1 only', async () => {
    const ports = stack.workers!.replicas.map((r) => r.port);
    expect(ports.length).toBe(2);
    for (const port of ports) {
      const addrs = listenersOn(port);
      expect(addrs.length, `nothing listens on replica port ${port}`).toBeGreaterThan(0);
      // 0100007F = 127.0.0.1 (little-endian hex); 00000000 or :: would be every interface.
      expect(addrs, `replica port ${port}`).toEqual(addrs.map(() => '0100007F'));
    }
  });
});

describe('a hostile MCP server', () => {
  let server: Server;
  let sent = 0;
  let url = '';
  const HUGE = 50 * 1024 * 1024;

  beforeAll(async () => {
    const reply = (res: import('node:http').ServerResponse, id: unknown, result: unknown) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, result }));
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const msg = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { id?: unknown; method?: string };
      if (msg.method === 'initialize')
        return reply(res, msg.id, {
          protocolVersion: '2025-06-18',
          capabilities: { tools: {} },
          serverInfo: { name: 'hostile', version: '1' },
        });
      if (msg.id === undefined) return void res.writeHead(202).end();
      if (msg.method === 'tools/list')
        return reply(res, msg.id, {
          tools: [{ name: 'dump', description: 'dump', inputSchema: { type: 'object', properties: {} } }],
        });
      // tools/call: a 50 MB text result, written as fast as the client reads it.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write(`{"jsonrpc":"2.0","id":${JSON.stringify(msg.id)},"result":{"content":[{"type":"text","text":"`);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      let gone = false;
      const closed = new Promise((r) => res.once('close', () => r((gone = true))));
      while (sent < HUGE && !gone) {
        sent += chunk.length;
        if (!res.write(chunk)) await Promise.race([new Promise((r) => res.once('drain', r)), closed]);
      }
      if (!res.destroyed) res.end('"}]}}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('answers a 50 MB tool result: the worker stops reading it early instead of buffering it whole', async () => {
    const gateway = createToolGateway({ MCP_TOOL_TIMEOUT_MS: 20_000 });
    try {
      const agent = agentSchema.parse({
        id: 'hostile-mcp',
        displayName: 'Hostile',
        instructions: 'test',
        voice: 'alloy',
        mcpServers: [{ name: 'hostile', url, allowedTools: ['dump'] }],
      });
      const r = await gateway.run(agent, { callId: 'call_huge', name: 'dump', arguments: '{}' });
      // The model gets an output it can speak, not 50 MB (and not a crash).
      expect(r.output.length).toBeLessThan(10_000);
      // Socket buffers let a few MB through before the client stops reading; never the whole body.
      expect(sent).toBeLessThan(HUGE / 3);
    } finally {
      await gateway.close();
    }
  });
});
