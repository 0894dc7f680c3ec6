import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { ToolData } from '../../shared/tools/data';
import { createToolsServer, type ToolsServerOptions } from '../../shared/tools/server';
import { logFailure } from '../../shared/telemetry/log';

/** One stateless MCP exchange: a new server and transport for this request's JSON-RPC body. */
export async function serveMcp(
  tools: ToolData,
  req: HttpRequest,
  body: Buffer<ArrayBuffer>,
  ctx: InvocationContext,
  /** The verified caller (the handler checked the token) and how to sign their verification grant. */
  opts: Omit<ToolsServerOptions, 'log' | 'now'>,
): Promise<HttpResponseInit> {
  const server = createToolsServer(tools, { ...opts, log: (line) => ctx.warn(line) });
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  try {
    await server.connect(transport);
    const request = new Request(req.url, { method: 'POST', headers: req.headers, body });
    const res = await transport.handleRequest(request);
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    return { status: res.status, headers, body: res.status === 202 ? undefined : await res.text() };
  } finally {
    await transport.close().catch(logFailure((l) => ctx.warn(l), 'mcp: closing the request transport'));
    await server.close().catch(logFailure((l) => ctx.warn(l), 'mcp: closing the request server'));
  }
}
