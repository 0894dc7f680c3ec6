import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { DefaultAzureCredential, getBearerTokenProvider, type TokenCredential } from '@azure/identity';
import { checkResolvedHost, type AgentPolicy } from '../agents/policy';
import type { McpServerRef } from '../agents/schema';
import { BUILTIN_AUDIENCE, CALLER_HEADER, currentCaller, signCallerToken } from './identity';
import { cappedFetch } from './capped-fetch';
import { logFailure } from '../telemetry/log';
import { MCP_SECRET_SETTING } from '../config/index';

export type McpAuth = McpServerRef['auth'];

export interface PoolOptions {
  /** Base URL of the Function app's own MCP endpoint (`url: "builtin"`). */
  builtinUrl?: string;
  /** The MCP_SECRET_* settings (`mcpSecrets()` in shared/config): header values and caller-identity keys. */
  secrets: Readonly<Record<string, string | undefined>>;
  /** MCP_BUILTIN_KEY: the built-in server's function key in Azure. */
  builtinKey?: string;
  credential?: TokenCredential;
  /** Extra headers per HTTP request, e.g. W3C `traceparent` from the caller's async context. */
  headers?: () => Record<string, string>;
  /** tools/list results are trusted this long. */
  toolsTtlMs: number;
  connectTimeoutMs: number;
  now: () => number;
  log: (line: string) => void;
  /** Injected for tests; defaults to global fetch. */
  fetch?: typeof fetch;
  /** Checked against every external server's resolved addresses before a request (see checkResolvedHost). */
  urlPolicy?: AgentPolicy;
  /** Signs caller tokens for the built-in server (derived from WORKER_AUTH_SECRET); without it none are sent. */
  identityKey?: Uint8Array;
}

/** One connected SDK Client per (server URL, auth), shared by every session of the process. */
export interface PooledServer {
  readonly url: string;
  client(): Promise<Client>;
  tools(): Promise<Tool[]>;
  /** Drops the connection (and the tools cache) after a transport failure; the next use reconnects. */
  reset(reason: string): void;
  close(): Promise<void>;
}

export class McpPool {
  private readonly servers = new Map<string, PooledServer>();
  private credential?: TokenCredential;
  /** One bearer-token provider per scope: the library caches each token and refreshes it before it expires. */
  private readonly tokens = new Map<string, () => Promise<string>>();
  private readonly warned = new Set<string>();

  constructor(private readonly opts: PoolOptions) {}

  /** The absolute URL of a server reference, or undefined for `builtin` when MCP_BUILTIN_URL is not set. */
  resolveUrl(ref: Pick<McpServerRef, 'url'>): string | undefined {
    return ref.url === 'builtin' ? this.opts.builtinUrl : ref.url;
  }

  get(ref: Pick<McpServerRef, 'url' | 'auth' | 'name' | 'callerIdentity'>): PooledServer | undefined {
    const url = this.resolveUrl(ref);
    if (!url) return undefined;
    const key = `${url}\n${JSON.stringify(ref.auth)}\n${ref.name}\n${JSON.stringify(ref.callerIdentity ?? null)}`;
    let server = this.servers.get(key);
    if (!server) {
      server = this.create(url, ref.auth, ref.url === 'builtin', ref);
      this.servers.set(key, server);
    }
    return server;
  }

  /** Auth headers for one request. A missing header setting is logged once and the header omitted. */
  async authHeaders(auth: McpAuth): Promise<Record<string, string>> {
    if (auth.type === 'header') {
      // Only settings meant for MCP servers can leave the process, whatever a stored definition says.
      if (!MCP_SECRET_SETTING.test(auth.setting))
        throw new Error(`setting ${auth.setting} is not an MCP_SECRET_* setting`);
      const value = this.opts.secrets[auth.setting];
      if (!value) {
        if (!this.warned.has(auth.setting)) {
          this.warned.add(auth.setting);
          this.opts.log(`mcp: setting ${auth.setting} is not set; calling without the ${auth.header} header`);
        }
        return {};
      }
      return { [auth.header]: value };
    }
    if (auth.type === 'managedIdentity') {
      let token = this.tokens.get(auth.scope);
      if (!token) {
        this.credential ??= this.opts.credential ?? new DefaultAzureCredential();
        token = getBearerTokenProvider(this.credential, auth.scope);
        this.tokens.set(auth.scope, token);
      }
      return { authorization: `Bearer ${await token()}` };
    }
    return {};
  }

  async close(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map((s) => s.close()));
  }

  /** The built-in server is a `function`-level route in Azure: its key comes from MCP_BUILTIN_KEY when set. */
  private builtinHeaders(): Record<string, string> {
    const key = this.opts.builtinKey;
    return key ? { 'x-functions-key': key } : {};
  }

  /**
   * The caller token for one request: the current session's caller (AsyncLocalStorage: the SDK clients are
   * shared), or a service token that can list tools but runs none. External servers get a token only when their
   * definition asks for one, signed with their own MCP_SECRET_* key.
   */
  private async callerHeaders(
    builtin: boolean,
    ref: Pick<McpServerRef, 'name' | 'callerIdentity'>,
  ): Promise<Record<string, string>> {
    const caller = currentCaller.getStore();
    if (builtin) {
      if (!this.opts.identityKey) return {};
      const token = caller ? await caller.token(BUILTIN_AUDIENCE) : await this.serviceToken(this.opts.identityKey);
      return { [CALLER_HEADER]: token };
    }
    if (!ref.callerIdentity || !caller) return {};
    const secret = this.opts.secrets[ref.callerIdentity.setting];
    if (!secret || !MCP_SECRET_SETTING.test(ref.callerIdentity.setting)) return {};
    return { [CALLER_HEADER]: await caller.token(ref.name, new TextEncoder().encode(secret)) };
  }

  private service?: { token: Promise<string>; exp: number };
  private serviceToken(key: Uint8Array): Promise<string> {
    if (this.service && this.service.exp > this.opts.now()) return this.service.token;
    const token = signCallerToken(key, { subject: 'service' }, BUILTIN_AUDIENCE, 600);
    this.service = { token, exp: this.opts.now() + 540_000 };
    return token;
  }

  private create(
    url: string,
    auth: McpAuth,
    builtin: boolean,
    ref: Pick<McpServerRef, 'name' | 'callerIdentity'>,
  ): PooledServer {
    const opts = this.opts;
    const baseFetch = cappedFetch(opts.fetch ?? fetch);
    let connecting: Promise<Client> | undefined;
    let current: Client | undefined;
    let cache: { at: number; tools: Promise<Tool[]>; listed?: Tool[] } | undefined;
    let refreshing: Promise<unknown> | undefined;
    let resolvedAt = Number.NEGATIVE_INFINITY;

    const authedFetch = async (input: string | URL | Request, init?: RequestInit) => {
      // Before any credential is attached: a public name re-pointed at an internal address gets nothing.
      if (!builtin && opts.urlPolicy && opts.now() - resolvedAt > 30_000) {
        await checkResolvedHost(url, opts.urlPolicy);
        resolvedAt = opts.now();
      }
      const headers = new Headers(init?.headers);
      const extra = {
        ...opts.headers?.(),
        ...(builtin ? this.builtinHeaders() : {}),
        ...(await this.authHeaders(auth)),
        ...(await this.callerHeaders(builtin, ref)),
      };
      for (const [k, v] of Object.entries(extra)) headers.set(k, v);
      return baseFetch(input, { ...init, headers });
    };

    const dropConnection = (reason: string) => {
      if (!current && !connecting) return;
      opts.log(`mcp: resetting connection to ${url}: ${reason}`);
      const old = current;
      current = undefined;
      connecting = undefined;
      old?.close().catch(logFailure(opts.log, `mcp: closing the old connection to ${url}`));
    };
    const reset = (reason: string) => {
      cache = undefined;
      dropConnection(reason);
    };

    const connect = async (): Promise<Client> => {
      const client = new Client({ name: 'voice-agents-worker', version: '1.0.0' }, { capabilities: {} });
      const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: authedFetch });
      client.onerror = (err) => opts.log(`mcp: ${url}: ${err.message}`);
      try {
        await client.connect(transport, { timeout: opts.connectTimeoutMs });
      } catch (err) {
        await client.close().catch(logFailure(opts.log, `mcp: closing a connection to ${url} that did not open`));
        throw err;
      }
      return client;
    };

    const getClient = (): Promise<Client> => {
      if (current) return Promise.resolve(current);
      const attempt = (connecting ??= connect().then(
        (c) => {
          if (connecting === attempt) current = c;
          return c;
        },
        (err) => {
          if (connecting === attempt) connecting = undefined;
          throw err;
        },
      ));
      return attempt;
    };

    const listAll = async (): Promise<Tool[]> => {
      const client = await getClient();
      const tools: Tool[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listTools(cursor ? { cursor } : undefined, { timeout: opts.connectTimeoutMs });
        tools.push(...page.tools);
        cursor = page.nextCursor;
      } while (cursor);
      return tools;
    };

    type Entry = { at: number; tools: Promise<Tool[]>; listed?: Tool[] };
    /**
     * One tools/list. tools/list is idempotent: after a failure the connection is rebuilt and the list retried
     * once (a pooled connection can outlive a server restart). A failed list is never cached.
     */
    const list = (): Entry => {
      const entry: Entry = {
        at: opts.now(),
        tools: listAll()
          .catch((err) => {
            dropConnection(`tools/list failed: ${(err as Error).message}`);
            return listAll();
          })
          .catch((err) => {
            if (cache === entry) cache = undefined;
            dropConnection(`tools/list failed again: ${(err as Error).message}`);
            throw err;
          }),
      };
      // A failure was logged (dropConnection) and reaches whoever awaits entry.tools.
      entry.tools.then(
        (t) => (entry.listed = t),
        () => undefined,
      );
      return entry;
    };

    return {
      url,
      client: getClient,
      reset,
      tools() {
        const age = cache ? opts.now() - cache.at : Infinity;
        if (cache && age < opts.toolsTtlMs) return cache.tools;
        // Past the TTL a listed copy is still served (up to ten TTLs) while one refresh runs behind it, so no
        // session start or tool call waits for tools/list once the server has answered it.
        if (cache?.listed && age < opts.toolsTtlMs * 10) {
          if (!refreshing) {
            const next = list();
            refreshing = next.tools
              .then(() => (cache = next))
              .catch((err) => opts.log(`mcp: refreshing tools/list of ${url} failed: ${(err as Error).message}`))
              .finally(() => (refreshing = undefined));
          }
          return cache.tools;
        }
        // Concurrent callers share the one request.
        cache = list();
        return cache.tools;
      },
      async close() {
        const c = current;
        current = undefined;
        connecting = undefined;
        cache = undefined;
        await c?.close().catch(logFailure(opts.log, `mcp: closing the connection to ${url}`));
      },
    };
  }
}
