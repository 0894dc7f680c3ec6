import { readBody } from '../../shared/http/body';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import functions, { type HttpMethod } from '@azure/functions';
import type { Route } from '../../functions/routes';
import { errorBody } from '../../shared/http/errors';
import { Router } from './router';

// @azure/functions is CommonJS; its classes are only reachable through the default export under ESM.
const { HttpRequest, HttpResponse, InvocationContext } = functions;

export interface RunnerOptions {
  routes: Route[];
  port?: number;
  host?: string;
  /** Key required for authLevel `function`/`admin` routes (header x-functions-key or ?code=), as the host does. */
  functionKey?: string;
  /** Largest body read from the socket before the handler sees it (the host's own limit is 100 MB). */
  maxRequestBytes?: number;
  log?: (line: string) => void;
}

export interface Runner {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the route table over node:http with the real HttpRequest / InvocationContext classes of
 * @azure/functions, under the same /api prefix as the Functions host, so only the host differs.
 */
export async function startRunner(opts: RunnerOptions): Promise<Runner> {
  const router = new Router(opts.routes);
  const maxBytes = opts.maxRequestBytes ?? 8 * 1024 * 1024;
  const log = opts.log ?? (() => {});

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log(`runner error: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) send(res, 500, errorBody('internal', 'internal error'));
      else res.destroy();
    });
  });
  // Idle keep-alive sockets are closed by the client (undici: 4 s), never by this server mid-reuse: a server
  // closing a socket the client is just reusing surfaces as a spurious "fetch failed" on the caller's side.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    if (!url.pathname.startsWith('/api/')) {
      return send(res, 404, errorBody('not_found', `no route for ${url.pathname}`));
    }
    const method = (req.method ?? 'GET').toUpperCase();
    const found = router.match(url.pathname.slice('/api/'.length), method);
    if (!found) return send(res, 404, errorBody('not_found', `no route for ${method} ${url.pathname}`));
    if ('methodNotAllowed' in found) {
      return send(res, 405, errorBody('method_not_allowed', `${method} is not allowed on ${url.pathname}`), {
        allow: [...new Set(found.methodNotAllowed)].join(', '),
      });
    }
    const { route, params } = found;
    if (route.authLevel !== 'anonymous' && opts.functionKey && method !== 'OPTIONS') {
      const given = String(req.headers['x-functions-key'] ?? url.searchParams.get('code') ?? '');
      if (!sameSecret(given, opts.functionKey)) {
        return send(res, 401, errorBody('unauthorized', 'a valid function key is required'));
      }
    }
    const body = await readBody(req, maxBytes);
    if (body === undefined)
      return send(res, 413, errorBody('body_too_large', `request body exceeds ${maxBytes} bytes`));

    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    // Like the platform front end: the hop this server saw is appended, whatever the client claimed.
    const peer = req.socket.remoteAddress ?? 'unknown';
    headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${peer}` : peer;
    const request = new HttpRequest({
      method: method as HttpMethod,
      url: url.toString(),
      headers,
      query: Object.fromEntries(url.searchParams),
      params,
      body: body.length ? { bytes: body } : undefined,
    });
    const invocationId = randomUUID();
    const context = new InvocationContext({
      invocationId,
      functionName: route.name,
      logHandler: (level, ...args) => log(`[${route.name}] ${level}: ${args.map(String).join(' ')}`),
    });
    const init = await route.handler(request, context);
    const response = new HttpResponse(init ?? { status: 204 });
    const out = Buffer.from(await response.arrayBuffer());
    const outHeaders: Record<string, string> = {};
    response.headers.forEach((v, k) => (outHeaders[k] = v));
    res.writeHead(response.status, outHeaders);
    res.end(out);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 7071, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${opts.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
