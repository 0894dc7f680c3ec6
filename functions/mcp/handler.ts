import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import {
  BUILTIN_AUDIENCE,
  CALLER_HEADER,
  identityKey,
  signCallerToken,
  verifyCallerToken,
  type CallerIdentity,
} from '../../shared/mcp/identity';
import type { ToolData } from '../../shared/tools/data';

export interface McpHandlerDeps {
  tools: ToolData;
  config: { MAX_BODY_BYTES: number; WORKER_AUTH_SECRET: string };
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
export const mcpHandler = (deps: McpHandlerDeps): HttpHandler => {
  const key = identityKey(deps.config.WORKER_AUTH_SECRET);
  return async (req: HttpRequest, ctx: InvocationContext): Promise<HttpResponseInit> => {
    if (req.method !== 'POST') return rpcError(405, -32000, 'Method not allowed.', { allow: 'POST' });

    // Every request acts for a caller the worker vouches for (a token signed with the worker's key), whatever
    // the host's own key check did: a function key alone names no caller.
    let caller: CallerIdentity;
    try {
      caller = await verifyCallerToken(key, req.headers.get(CALLER_HEADER) ?? '', BUILTIN_AUDIENCE);
    } catch {
      return rpcError(401, -32001, `A valid ${CALLER_HEADER} token is required.`);
    }

    const body = Buffer.from(await req.arrayBuffer());
    if (body.byteLength > deps.config.MAX_BODY_BYTES) return rpcError(413, -32600, 'Request body too large.');
    // One tool call per request: a batch would multiply work (and a budget check) behind one HTTP request.
    if (/^\s*\[/.test(body.toString('utf8', 0, Math.min(body.byteLength, 64))))
      return rpcError(400, -32600, 'JSON-RPC batches are not supported; send one request per HTTP request.');

    // The MCP SDK's server side loads with the first request an instance answers here, not at start-up.
    const { serveMcp } = await import('./serve');
    return serveMcp(deps.tools, req, body, ctx, {
      caller,
      grant: (customerId) => signCallerToken(key, { ...caller, customerId }, BUILTIN_AUDIENCE),
    });
  };
};
