import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TaskHub } from './taskhub';

/**
 * The extension's client HTTP API (the `rpcBaseUrl` routes the durable-functions client calls) over a
 * simulated task hub: start, status, raise event, purge (one or by filter), signal and read an entity. Status
 * codes as the client library expects them: 202 running, 200 completed, 400 failed; 404 unknown. Starting an
 * id that is pending or running is refused (409): the client surfaces that as an error, which is what the
 * "already exists" case of the real extension looks like to the caller.
 */
export interface ClientApi {
  rpcBaseUrl: string;
  calls: Record<string, number>;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body?: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
};

async function bodyOf(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startClientApi(hub: TaskHub): Promise<ClientApi> {
  const calls: Record<string, number> = {};
  const count = (k: string) => (calls[k] = (calls[k] ?? 0) + 1);
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const parts = url.pathname
      .replace(/^\/durabletask\//, '')
      .split('/')
      .map(decodeURIComponent);
    const body = await bodyOf(req);
    try {
      if (req.method === 'POST' && parts[0] === 'orchestrators') {
        count('startNew');
        const [, name, id = `auto-${Math.random().toString(36).slice(2)}`] = parts;
        const input = body ? JSON.parse(body) : undefined;
        if (!hub.start(name!, id, input))
          return json(res, 409, { message: `An instance with ID '${id}' already exists.` });
        return json(res, 202, { id });
      }
      if (parts[0] === 'entities') {
        const id = `@${parts[1]!.toLowerCase()}@${parts.slice(2).join('/')}`;
        if (req.method === 'POST') {
          count('signalEntity');
          hub.signal(id, url.searchParams.get('op') ?? '', body);
          return json(res, 202);
        }
        count('readEntityState');
        const e = hub.entities.get(id);
        if (!e?.exists || e.state === undefined) return json(res, 404);
        return json(res, 200, JSON.parse(e.state));
      }
      if (parts[0] === 'instances' && parts[2] === 'raiseEvent') {
        count('raiseEvent');
        const r = hub.raise(parts[1]!, parts[3]!, body ? JSON.parse(body) : undefined);
        return json(res, r === 'ok' ? 202 : r === 'gone' ? 410 : 404);
      }
      if (parts[0] === 'instances' && req.method === 'DELETE') {
        const id = parts[1];
        if (id) {
          count('purgeInstanceHistory');
          const had = hub.orchestrations.delete(id) || hub.entities.delete(id);
          return had ? json(res, 200, { instancesDeleted: 1 }) : json(res, 404);
        }
        count('purgeInstanceHistoryBy');
        const from = Date.parse(url.searchParams.get('createdTimeFrom') ?? '1970-01-01');
        const to = Date.parse(url.searchParams.get('createdTimeTo') ?? '9999-01-01');
        const statuses = (url.searchParams.get('runtimeStatus') ?? '').split(',').filter(Boolean);
        let n = 0;
        for (const [oid, o] of hub.orchestrations) {
          if (o.createdAt < from || o.createdAt > to) continue;
          if (statuses.length && !statuses.includes(o.status)) continue;
          hub.orchestrations.delete(oid);
          n++;
        }
        return n ? json(res, 200, { instancesDeleted: n }) : json(res, 404);
      }
      if (parts[0] === 'instances' && req.method === 'GET') {
        count('getStatus');
        const o = hub.orchestrations.get(parts[1] ?? '');
        if (!o) return json(res, 404);
        const status = { Running: 202, Pending: 202, Completed: 200, Failed: 400, Terminated: 400 }[o.status];
        return json(res, status, {
          name: o.name,
          instanceId: o.id,
          runtimeStatus: o.status,
          input: o.input,
          output: o.output ?? null,
          customStatus: null,
          createdTime: new Date(o.createdAt).toISOString(),
          lastUpdatedTime: new Date(o.updatedAt).toISOString(),
        });
      }
      json(res, 404, { message: `not simulated: ${req.method} ${url.pathname}` });
    } catch (err) {
      json(res, 500, { message: (err as Error).message });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    rpcBaseUrl: `http://127.0.0.1:${port}/durabletask/`,
    calls,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
