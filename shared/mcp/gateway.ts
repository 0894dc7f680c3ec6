import type { TokenCredential } from '@azure/identity';
import { McpError, ErrorCode, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType, JsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/types.js';
import type { RealtimeFunctionTool, RealtimeToolsConfigUnion } from 'openai/resources/realtime/realtime';
import type { AgentPolicy } from '../agents/policy';
import type { AgentDefinition, McpServerRef } from '../agents/schema';
import { GRANT_META_KEY, identityKey, currentCaller, type SessionCaller } from './identity';
import { messages, renderCallResult } from './output';
import { McpPool, type PooledServer } from './pool';
import type { ToolCall, ToolGateway, ToolResult } from './types';

export interface GatewayConfig {
  MCP_BUILTIN_URL?: string;
  MCP_TOOL_TIMEOUT_MS?: number;
  MCP_BUILTIN_KEY?: string;
  /** Caller tokens for the built-in server are signed with a key derived from it (both apps hold it). */
  WORKER_AUTH_SECRET?: string;
}

export type ToolOutcome =
  'ok' | 'tool_error' | 'not_allowed' | 'invalid_args' | 'timeout' | 'unavailable' | 'cancelled' | 'over_budget';

export interface GatewayOptions {
  /** The MCP_SECRET_* settings (`mcpSecrets()` in shared/config); none when unset. */
  secrets?: Readonly<Record<string, string | undefined>>;
  credential?: TokenCredential;
  /** Extra headers on every MCP HTTP request, e.g. `traceparent` read from the caller's async context. */
  headers?: () => Record<string, string>;
  /** How long a server's tools/list is trusted (default 60 s). */
  toolsTtlMs?: number;
  /** Connect + tools/list timeout (default 5 s). */
  connectTimeoutMs?: number;
  now?: () => number;
  log?: (line: string) => void;
  /** Telemetry hook: one event per run(). Never carries arguments or output (user data). */
  onCall?: (e: { agentId: string; tool: string; server?: string; outcome: ToolOutcome; durationMs: number }) => void;
  fetch?: typeof fetch;
  /** When set, every request to an external server first checks where its host resolves (no internal address). */
  urlPolicy?: AgentPolicy;
}

export interface McpToolGateway extends ToolGateway {
  retrySafe(agent: AgentDefinition, toolName: string): Promise<boolean>;
  close(): Promise<void>;
}

interface ResolvedTool {
  exposed: string;
  server: McpServerRef;
  pooled: PooledServer;
  tool: Tool;
}

interface ToolIndex {
  tools: Map<string, ResolvedTool>;
  unavailable: McpServerRef[];
}

/** Realtime function names: ^[a-zA-Z0-9_-]{1,64}$. */
const safeName = (s: string) => s.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64);
const NS = '__';

/** A JSON schema fit for the Realtime `parameters` field and for Ajv (whose default dialect is draft-07). */
function cleanSchema(schema: Tool['inputSchema']): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = schema as Record<string, unknown>;
  return { type: 'object', properties: {}, ...rest };
}

/**
 * The worker's MCP gateway: pooled SDK clients per server, tools/list cached and turned into Realtime tools,
 * and run() that never throws — every failure becomes an output the model can use.
 */
export function createToolGateway(config: GatewayConfig, opts: GatewayOptions = {}): McpToolGateway {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => {});
  const timeoutMs = config.MCP_TOOL_TIMEOUT_MS ?? 8000;
  const pool = new McpPool({
    builtinUrl: config.MCP_BUILTIN_URL,
    secrets: opts.secrets ?? {},
    builtinKey: config.MCP_BUILTIN_KEY,
    credential: opts.credential,
    headers: opts.headers,
    toolsTtlMs: opts.toolsTtlMs ?? 60_000,
    connectTimeoutMs: opts.connectTimeoutMs ?? 5000,
    now,
    log,
    fetch: opts.fetch,
    urlPolicy: opts.urlPolicy,
    identityKey: config.WORKER_AUTH_SECRET ? identityKey(config.WORKER_AUTH_SECRET) : undefined,
  });
  const ajv = new AjvJsonSchemaValidator();
  const validators = new WeakMap<Tool, JsonSchemaValidator<unknown>>();
  const runs = new Map<string, { at: number; result: Promise<ToolResult> }>();
  const warned = new Set<string>();

  /** Public servers go to the model as native `mcp` tools, but only without auth: the session config is
   *  visible to the client holding the token, so a secret must never be put in it. */
  const isNative = (s: McpServerRef) => {
    if (!s.public) return false;
    if (s.auth.type !== 'none') {
      if (!warned.has(s.name))
        log(`mcp: server ${s.name} is public but has ${s.auth.type} auth; proxying it through the worker instead`);
      warned.add(s.name);
      return false;
    }
    return Boolean(pool.resolveUrl(s));
  };

  async function index(agent: AgentDefinition): Promise<ToolIndex> {
    const servers = agent.mcpServers.filter((s) => !isNative(s));
    const unavailable: McpServerRef[] = [];
    const listed = await Promise.all(
      servers.map(async (server) => {
        const pooled = pool.get(server);
        if (!pooled) {
          log(`mcp: agent ${agent.id}: server ${server.name} is "builtin" but MCP_BUILTIN_URL is not set`);
          unavailable.push(server);
          return [];
        }
        try {
          const tools = await pooled.tools();
          const allowed = tools.filter((t) => server.allowedTools.includes(t.name));
          const missing = server.allowedTools.filter((n) => !tools.some((t) => t.name === n));
          if (missing.length)
            log(`mcp: server ${server.name} does not offer allow-listed tools: ${missing.join(', ')}`);
          return allowed.map((tool) => ({ server, pooled, tool }));
        } catch (err) {
          log(`mcp: agent ${agent.id}: tools/list on ${server.name} failed: ${(err as Error).message}`);
          unavailable.push(server);
          return [];
        }
      }),
    );
    const all = listed.flat();
    const count = new Map<string, number>();
    for (const t of all) count.set(t.tool.name, (count.get(t.tool.name) ?? 0) + 1);
    const tools = new Map<string, ResolvedTool>();
    for (const t of all) {
      // Names are only prefixed when two servers collide, so prompts can keep saying "call get_order".
      const exposed = safeName((count.get(t.tool.name) ?? 0) > 1 ? `${t.server.name}${NS}${t.tool.name}` : t.tool.name);
      if (tools.has(exposed)) log(`mcp: agent ${agent.id}: tool name ${exposed} is ambiguous; keeping the first`);
      else tools.set(exposed, { exposed, ...t });
    }
    return { tools, unavailable };
  }

  async function toolsFor(agent: AgentDefinition): Promise<(RealtimeFunctionTool | RealtimeToolsConfigUnion)[]> {
    const native: RealtimeToolsConfigUnion[] = agent.mcpServers.filter(isNative).map((s) => ({
      type: 'mcp',
      server_label: s.name,
      server_url: pool.resolveUrl(s)!,
      allowed_tools: [...s.allowedTools],
      require_approval: 'never',
    }));
    const { tools } = await index(agent);
    const functions: RealtimeFunctionTool[] = [...tools.values()].map((t) => ({
      type: 'function',
      name: t.exposed,
      description: (t.tool.description ?? t.tool.title ?? t.tool.name).slice(0, 1024),
      parameters: cleanSchema(t.tool.inputSchema),
    }));
    return [...functions, ...native];
  }

  function validatorFor(tool: Tool): JsonSchemaValidator<unknown> {
    let v = validators.get(tool);
    if (!v) {
      v = ajv.getValidator<unknown>(cleanSchema(tool.inputSchema) as JsonSchemaType);
      validators.set(tool, v);
    }
    return v;
  }

  async function execute(
    agent: AgentDefinition,
    call: ToolCall,
    signal?: AbortSignal,
    caller?: SessionCaller,
  ): Promise<ToolResult & { outcome: ToolOutcome; server?: string }> {
    const started = now();
    const done = (outcome: ToolOutcome, output: string, server?: string) => ({
      output,
      isError: outcome !== 'ok',
      durationMs: now() - started,
      outcome,
      server,
    });
    const { tools, unavailable } = await index(agent);
    const t = tools.get(call.name);
    if (!t || !t.server.allowedTools.includes(t.tool.name)) {
      const bare = call.name.includes(NS) ? call.name.slice(call.name.lastIndexOf(NS) + NS.length) : call.name;
      const down = unavailable.find((s) => s.allowedTools.includes(bare));
      if (down) return done('unavailable', messages.unavailable(bare), down.name);
      log(`mcp: agent ${agent.id}: refused call to ${safeName(call.name)} (not offered to this agent)`);
      return done('not_allowed', messages.notAllowed(safeName(call.name)));
    }
    const server = t.server.name;

    let args: unknown;
    try {
      args = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
    } catch {
      return done('invalid_args', messages.invalidJson(t.exposed), server);
    }
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      return done('invalid_args', messages.invalidArgs(t.exposed, 'expected a JSON object'), server);
    }
    const checked = validatorFor(t.tool)(args);
    if (!checked.valid) return done('invalid_args', messages.invalidArgs(t.exposed, checked.errorMessage), server);

    if (signal?.aborted) return done('cancelled', messages.cancelled(t.exposed), server);
    if (caller) {
      // A per-session budget: a prompt-injected or looping model cannot turn one call into unbounded lookups.
      if (caller.calls >= caller.maxCalls)
        return done('over_budget', messages.budgetExhausted(t.exposed, caller.maxCalls), server);
      caller.calls++;
    }
    // The SDK owns the deadline and the cancel: its RequestOptions reject at once and send the server
    // notifications/cancelled. Connecting counts against the same budget (bounded by the pool's connect timeout).
    try {
      const client = await t.pooled.client();
      if (signal?.aborted) return done('cancelled', messages.cancelled(t.exposed), server);
      const budget = Math.max(1, timeoutMs - (now() - started));
      // The caller rides in async context: the pooled client's fetch signs its token into the request.
      const callTool = () =>
        client.callTool({ name: t.tool.name, arguments: args as Record<string, unknown> }, undefined, {
          signal,
          timeout: budget,
          maxTotalTimeout: budget,
        });
      const result = await (caller ? currentCaller.run(caller, callTool) : callTool());
      const r = result as {
        content?: unknown;
        structuredContent?: unknown;
        isError?: boolean;
        _meta?: Record<string, unknown>;
      };
      const grant = r._meta?.[GRANT_META_KEY];
      // Only the built-in server verifies callers; a grant from anywhere else is ignored.
      if (caller && t.server.url === 'builtin' && typeof grant === 'string') await caller.acceptGrant(grant);
      return done(r.isError ? 'tool_error' : 'ok', renderCallResult(t.exposed, r), server);
    } catch (err) {
      // The SDK reports a cancel as RequestTimeout too: the caller's signal tells them apart.
      if (signal?.aborted) return done('cancelled', messages.cancelled(t.exposed), server);
      if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
        return done('timeout', messages.timeout(t.exposed, timeoutMs), server);
      }
      if (err instanceof McpError && err.code !== ErrorCode.ConnectionClosed) {
        // The server answered with a JSON-RPC error (unknown tool, invalid params): the connection is fine.
        return done(
          'tool_error',
          renderCallResult(t.exposed, { isError: true, content: [{ type: 'text', text: err.message }] }),
          server,
        );
      }
      t.pooled.reset(`tools/call failed: ${(err as Error).message}`);
      return done('unavailable', messages.unavailable(t.exposed), server);
    }
  }

  async function retrySafe(agent: AgentDefinition, toolName: string): Promise<boolean> {
    const t = (await index(agent)).tools.get(toolName);
    // Unknown now (server down, list stale) may be known at run time: only a resolved tool can be vouched for.
    if (!t) return false;
    const hints = t.tool.annotations;
    return Boolean(hints?.readOnlyHint || hints?.idempotentHint || t.server.retrySafeTools.includes(t.tool.name));
  }

  async function run(
    agent: AgentDefinition,
    call: ToolCall,
    signal?: AbortSignal,
    caller?: SessionCaller,
  ): Promise<ToolResult> {
    // A call id runs at most once: a redelivered function call gets the first run's result, never a second side effect.
    const key = `${agent.id}\n${call.callId}`;
    const existing = runs.get(key);
    if (existing) return existing.result;
    if (runs.size > 2000) for (const [k, v] of runs) if (now() - v.at > 10 * 60_000) runs.delete(k);
    const result = execute(agent, call, signal, caller)
      .catch((err) => {
        log(`mcp: unexpected failure running ${safeName(call.name)}: ${(err as Error).message}`);
        return {
          output: messages.failed(safeName(call.name)),
          isError: true,
          durationMs: 0,
          outcome: 'unavailable' as const,
          server: undefined,
        };
      })
      .then(({ outcome, server, ...r }) => {
        opts.onCall?.({ agentId: agent.id, tool: safeName(call.name), server, outcome, durationMs: r.durationMs });
        return r;
      });
    runs.set(key, { at: now(), result });
    return result;
  }

  return { toolsFor, run, retrySafe, close: () => pool.close() };
}
