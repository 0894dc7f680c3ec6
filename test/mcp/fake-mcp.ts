import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { type z } from 'zod';

export interface FakeTool {
  name: string;
  description?: string;
  input: z.ZodRawShape;
  annotations?: ToolAnnotations;
  run: (args: Record<string, unknown>) => Promise<CallToolResult> | CallToolResult;
}

export interface FakeMcp {
  url: string;
  /** Every JSON-RPC method received, in order (`tools/call:<name>` for calls). */
  methods: string[];
  calls: { name: string; args: unknown }[];
  headers: Record<string, string>[];
  /** When set, every POST answers this HTTP status (a broken server). */
  failWith?: number;
  close(): Promise<void>;
}

/** A small stateless Streamable HTTP MCP server for gateway tests: records what it is asked. */
export async function startFakeMcp(tools: FakeTool[], port = 0): Promise<FakeMcp> {
  const fake: FakeMcp = { url: '', methods: [], calls: [], headers: [], close: async () => {} };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
    fake.headers.push(headers);
    if (fake.failWith) {
      res.writeHead(fake.failWith, { 'content-type': 'text/plain' }).end('broken');
      return;
    }
    if (req.method === 'POST') {
      try {
        const msg = JSON.parse(body.toString('utf8'));
        for (const m of Array.isArray(msg) ? msg : [msg]) {
          if (m.method === 'tools/call') fake.calls.push({ name: m.params.name, args: m.params.arguments });
          if (m.method) fake.methods.push(m.method === 'tools/call' ? `tools/call:${m.params.name}` : m.method);
        }
      } catch {
        /* the transport answers malformed JSON itself */
      }
    }
    const mcp = new McpServer({ name: 'fake', version: '1.0.0' });
    for (const t of tools) {
      mcp.registerTool(
        t.name,
        { description: t.description ?? t.name, inputSchema: t.input, annotations: t.annotations },
        async (args: Record<string, unknown>) => t.run(args),
      );
    }
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    await mcp.connect(transport);
    const request = new Request(`http://127.0.0.1${req.url}`, {
      method: req.method,
      headers,
      body: req.method === 'POST' ? body : undefined,
    });
    const response = await transport.handleRequest(request);
    const out: Record<string, string> = {};
    response.headers.forEach((v, k) => (out[k] = v));
    res.writeHead(response.status, out).end(Buffer.from(await response.arrayBuffer()));
    await mcp.close();
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  fake.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return fake;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
