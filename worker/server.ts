import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ZodType } from 'zod';
import { readBody } from '../shared/http/body';
import { errorBody, validationError } from '../shared/http/errors';
import { attachBodySchema, detachBodySchema } from '../shared/worker-client/api';
import { bearerMatches } from '../shared/worker-client/auth';
import { AttachError, type WorkerCore } from './core';

const MAX_BODY = 16 * 1024;

export interface WorkerServerOptions {
  core: WorkerCore;
  secret: string;
  port: number;
  host?: string;
  /** Called by POST /drain (and SIGTERM): drains then, typically, exits. */
  onDrain(): void;
  log?: (line: string) => void;
}

/**
 * The worker's internal API. Every route but the probes needs `Bearer WORKER_AUTH_SECRET`. Container Apps
 * probes call /healthz (liveness: the process answers) and /readyz (readiness: takes attaches).
 */
export async function startWorkerServer(
  opts: WorkerServerOptions,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const { core } = opts;
  const log = opts.log ?? (() => {});
  const server = createServer((req, res) => {
    route(req, res).catch((err) => {
      log(`worker api error: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, errorBody('internal', 'internal error'));
    });
  });

  async function route(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0];
    const method = req.method ?? 'GET';
    if (method === 'GET' && path === '/healthz') {
      return send(res, 200, { status: 'ok', workerId: core.workerId, sessions: core.sessions.size });
    }
    if (method === 'GET' && path === '/readyz') {
      return send(res, core.ready ? 200 : 503, {
        ready: core.ready,
        draining: core.draining,
        sessions: core.sessions.size,
      });
    }
    const known = ['/attach', '/detach', '/drain', '/stats'];
    if (!known.includes(path ?? '')) return send(res, 404, errorBody('not_found', `no route for ${method} ${path}`));
    if (!bearerMatches(req.headers.authorization, opts.secret)) {
      return send(res, 401, errorBody('unauthorized', 'a valid bearer token is required'));
    }
    if (path === '/stats' && method === 'GET') {
      const mem = process.memoryUsage();
      return send(res, 200, {
        workerId: core.workerId,
        sessions: core.sessions.size,
        ...core.stats,
        rss: mem.rss,
        heapUsed: mem.heapUsed,
      });
    }
    if (method !== 'POST')
      return send(res, 405, errorBody('method_not_allowed', `${method} is not allowed on ${path}`), { allow: 'POST' });
    if (path === '/drain') {
      opts.onDrain();
      return send(res, 202, { draining: true, sessions: core.sessions.size });
    }
    const raw = await readBody(req, MAX_BODY);
    if (raw === undefined) return send(res, 413, errorBody('body_too_large', `request body exceeds ${MAX_BODY} bytes`));
    const body = raw.toString('utf8');
    if (path === '/attach') {
      const parsed = parse(attachBodySchema, body);
      if ('error' in parsed) return send(res, 400, parsed.error);
      try {
        const r = await core.attach(parsed.value);
        return send(res, 200, { workerId: core.workerId, sessionId: parsed.value.sessionId, already: r.already });
      } catch (err) {
        if (err instanceof AttachError) return send(res, err.status, errorBody(err.code, err.message));
        throw err;
      }
    }
    const parsed = parse(detachBodySchema, body);
    if ('error' in parsed) return send(res, 400, parsed.error);
    const held = await core.detachAndFlush(parsed.value.sessionId, parsed.value.reason);
    return held
      ? send(res, 200, { detached: true })
      : send(res, 404, errorBody('not_found', 'this worker does not hold the session'));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => (server.off('error', reject), resolve()));
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

function parse<T>(schema: ZodType<T>, text: string): { value: T } | { error: unknown } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { error: errorBody('invalid_json', 'body is not valid JSON') };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { value: parsed.data };
  const e = validationError(parsed.error);
  return { error: errorBody(e.code, e.message, e.details) };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}
