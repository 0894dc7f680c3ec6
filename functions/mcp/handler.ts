import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { ToolData } from '../../shared/tools/data';

export interface McpHandlerDeps {
  tools: ToolData;
  config: { MAX_BODY_BYTES: number };
}

/** JSON-RPC error body, as stateless Streamable HTTP servers answer GET (no SSE stream) and DELETE (no session). */
const rpcError = (
  status: number,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): HttpResponseInit => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }),
});

/**
 * POST /api/mcp — the built-in MCP server over Streamable HTTP, stateless: a new McpServer and transport per
 * request (no session id, JSON responses instead of SSE), so any Function instance can answer any request.
 */
export const mcpHandler =
  (deps: McpHandlerDeps): HttpHandler =>
  async (req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> => {
    if (req.method !== 'POST') return rpcError(405, -32000, 'Method not allowed.', { allow: 'POST' });

    const body = Buffer.from(await req.arrayBuffer());
    if (body.byteLength > deps.config.MAX_BODY_BYTES) return rpcError(413, -32600, 'Request body too large.');

    // The MCP SDK's server side loads with the first request an instance answers here, not at start-up.
    const { serveMcp } = await import('./serve');
    return serveMcp(deps.tools, req, body, ctx);
  };
