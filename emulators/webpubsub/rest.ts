import { readBody } from '../../shared/http/body';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dataTypeOf, type Connection, type Hubs } from './hub';
import { signClientToken, TokenError, verifyServerToken } from './tokens';

/** The service's limit for one message. */
const MAX_MESSAGE_BYTES = 1024 * 1024;
const HUB = /^[A-Za-z][A-Za-z0-9_]*$/;

export interface RestContext {
  hubs: Hubs;
  accessKey: string;
  /** Public base URL (http://host:port), for the audience of generated client tokens. */
  baseUrl: () => string;
}

class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The data-plane REST API under `/api/hubs/{hub}/…`, at the paths `@azure/web-pubsub` calls. Errors use the
 * service's `{ code, message }` shape so the SDK surfaces them as RestErrors.
 */
export async function handleRest(ctx: RestContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  try {
    if (url.pathname === '/api/health') return end(res, 200);
    const segs = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (segs[0] !== 'api' || segs[1] !== 'hubs' || !segs[2])
      throw new RestError(404, 'NotFound', `no operation at ${url.pathname}`);
    const hub = segs[2];
    if (!HUB.test(hub))
      throw new RestError(400, 'InvalidHub', 'hub names start with a letter and contain letters, digits and _');
    await verifyServerToken(req.headers.authorization, ctx.accessKey, url.pathname).catch((err) => {
      throw err instanceof TokenError ? new RestError(401, 'Unauthorized', err.message) : err;
    });
    await route(ctx, hub, segs.slice(3), req, res, url);
  } catch (err) {
    if (err instanceof RestError) return json(res, err.status, { code: err.code, message: err.message });
    json(res, 500, { code: 'InternalServerError', message: err instanceof Error ? err.message : String(err) });
  }
}

async function route(
  ctx: RestContext,
  hub: string,
  rest: string[],
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
) {
  const { hubs } = ctx;
  const method = req.method ?? 'GET';
  const p = rest.join('/');
  const excluded = new Set(url.searchParams.getAll('excluded'));
  const reason = url.searchParams.get('reason') ?? undefined;
  const at = (re: RegExp) => re.exec(p);
  let m: RegExpExecArray | null;

  const conn = (id: string): Connection => {
    const c = hubs.connection(hub, id);
    if (!c) throw new RestError(404, 'NotFound', `connection ${id} not found`);
    return c;
  };

  if (method === 'POST' && p === ':send')
    return send(ctx, req, res, url, hubs.inHub(hub), { from: 'server' }, excluded);
  if (method === 'POST' && (m = at(/^groups\/([^/]+)\/:send$/)))
    return send(ctx, req, res, url, hubs.inGroup(hub, group(m[1]!)), { from: 'group', group: m[1]! }, excluded);
  if (method === 'POST' && (m = at(/^users\/([^/]+)\/:send$/)))
    return send(ctx, req, res, url, hubs.ofUser(hub, m[1]!), { from: 'server' });
  if (method === 'POST' && (m = at(/^connections\/([^/]+)\/:send$/)))
    return send(
      ctx,
      req,
      res,
      url,
      [hubs.connection(hub, m[1]!)].filter((c): c is Connection => !!c),
      { from: 'server' },
    );

  if (method === 'HEAD' && (m = at(/^groups\/([^/]+)$/))) return end(res, hubs.inGroup(hub, m[1]!).length ? 200 : 404);
  if (method === 'HEAD' && (m = at(/^users\/([^/]+)$/))) return end(res, hubs.ofUser(hub, m[1]!).length ? 200 : 404);
  if (method === 'HEAD' && (m = at(/^connections\/([^/]+)$/))) return end(res, hubs.connection(hub, m[1]!) ? 200 : 404);

  if (method === 'GET' && (m = at(/^groups\/([^/]+)\/connections$/))) {
    const value = hubs
      .inGroup(hub, m[1]!)
      .map((c) => ({ connectionId: c.id, ...(c.userId ? { userId: c.userId } : {}) }));
    return json(res, 200, { value });
  }
  if ((m = at(/^groups\/([^/]+)\/connections\/([^/]+)$/))) {
    const c = conn(m[2]!);
    if (method === 'PUT') return (hubs.join(c, group(m[1]!)), end(res, 200));
    if (method === 'DELETE') return (hubs.leave(c, m[1]!), end(res, 204));
  }
  if ((m = at(/^users\/([^/]+)\/groups\/([^/]+)$/))) {
    const g = group(m[2]!);
    if (method === 'PUT') return (hubs.ofUser(hub, m[1]!).forEach((c) => hubs.join(c, g)), end(res, 200));
    if (method === 'DELETE') return (hubs.ofUser(hub, m[1]!).forEach((c) => hubs.leave(c, g)), end(res, 204));
  }
  if (method === 'DELETE' && (m = at(/^users\/([^/]+)\/groups$/))) {
    for (const c of hubs.ofUser(hub, m[1]!)) for (const g of [...c.groups]) hubs.leave(c, g);
    return end(res, 204);
  }
  if (method === 'DELETE' && (m = at(/^connections\/([^/]+)\/groups$/))) {
    const c = hubs.connection(hub, m[1]!);
    if (c) for (const g of [...c.groups]) hubs.leave(c, g);
    return end(res, 204);
  }
  if (method === 'DELETE' && (m = at(/^connections\/([^/]+)$/))) {
    const c = hubs.connection(hub, m[1]!);
    if (c) hubs.close([c], reason);
    return end(res, 204);
  }
  if (method === 'POST' && p === ':closeConnections')
    return (hubs.close(hubs.inHub(hub), reason, excluded), end(res, 204));
  if (method === 'POST' && (m = at(/^groups\/([^/]+)\/:closeConnections$/)))
    return (hubs.close(hubs.inGroup(hub, m[1]!), reason, excluded), end(res, 204));
  if (method === 'POST' && (m = at(/^users\/([^/]+)\/:closeConnections$/)))
    return (hubs.close(hubs.ofUser(hub, m[1]!), reason, excluded), end(res, 204));

  if (method === 'POST' && p === ':generateToken') {
    const q = url.searchParams;
    if ((q.get('clientType') ?? 'Default').toLowerCase() !== 'default') {
      throw new RestError(400, 'NotSupported', 'the emulator issues tokens for the default client type only');
    }
    const minutes = Number(q.get('minutesToExpire') ?? '60');
    const token = await signClientToken(ctx.accessKey, `${ctx.baseUrl()}/client/hubs/${hub}`, {
      userId: q.get('userId') ?? undefined,
      roles: q.getAll('role'),
      groups: q.getAll('group'),
      minutes: Number.isFinite(minutes) && minutes > 0 ? minutes : 60,
    });
    return json(res, 200, { token });
  }
  throw new RestError(404, 'NotFound', `${method} /api/hubs/${hub}/${p} is not an operation the emulator implements`);
}

async function send(
  ctx: RestContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  targets: Connection[],
  source: { from: 'server' } | { from: 'group'; group: string },
  excluded?: Set<string>,
) {
  if (url.searchParams.has('filter'))
    throw new RestError(400, 'NotSupported', 'the emulator does not evaluate OData filters');
  const dataType = dataTypeOf(req.headers['content-type']);
  if (!dataType)
    throw new RestError(415, 'UnsupportedMediaType', 'use application/json, text/plain or application/octet-stream');
  const bytes = await body(req);
  if (dataType === 'json') {
    try {
      JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new RestError(400, 'InvalidJson', 'the body is not valid JSON');
    }
  }
  ctx.hubs.deliver(targets, { dataType, bytes }, source, excluded);
  end(res, 202);
}

function group(name: string): string {
  if (name.length < 1 || name.length > 1024)
    throw new RestError(400, 'InvalidGroup', 'group names are 1 to 1024 characters');
  return name;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const buf = await readBody(req, MAX_MESSAGE_BYTES);
  if (!buf) throw new RestError(413, 'PayloadTooLarge', 'a message is at most 1 MB');
  return buf;
}

function end(res: ServerResponse, status: number) {
  res.writeHead(status);
  res.end();
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
