import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One storage transaction as billed: each REST call (an entity-group `$batch` is one). */
export interface TableCall {
  method: string;
  table: string;
  kind: 'batch' | 'query' | 'point-read' | 'insert' | 'upsert' | 'delete' | 'table' | 'other';
  status: number;
  /** Request path (keys included) and when it was answered: benches print a session's calls in order. */
  path?: string;
  at?: number;
}

export interface TableProxy {
  url: string;
  port: number;
  calls: TableCall[];
  reset(): void;
  /** Calls grouped by `${kind} ${table}`. */
  summary(): Record<string, number>;
  close(): Promise<void>;
}

function classify(req: IncomingMessage): Pick<TableCall, 'table' | 'kind'> {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    .split('/')
    .filter(Boolean);
  // Azurite paths: /<account>/<table>(PK='..',RK='..') | /<account>/Tables | /<account>/$batch
  const seg = path[1] ?? '';
  if (seg === '$batch') return { table: '(batch)', kind: 'batch' };
  if (seg.startsWith('Tables')) return { table: '(tables)', kind: 'table' };
  const table = seg.replace(/\(.*$/, '');
  const keyed = /\(.+\)/.test(seg);
  switch (req.method) {
    case 'GET':
      return { table, kind: keyed ? 'point-read' : 'query' };
    case 'POST':
      return { table, kind: 'insert' };
    case 'PUT':
    case 'PATCH':
    case 'MERGE':
      return { table, kind: 'upsert' };
    case 'DELETE':
      return { table, kind: 'delete' };
    default:
      return { table, kind: 'other' };
  }
}

/** The table named by the first operation of a `$batch` multipart body, e.g. `PATCH http://h/acct/history(…) HTTP/1.1`. */
function batchTable(body: string): string | undefined {
  const m = /(?:GET|POST|PUT|PATCH|MERGE|DELETE) https?:\/\/[^/\s]+\/[^/\s]+\/([A-Za-z][A-Za-z0-9]*)/.exec(body);
  return m?.[1];
}

/**
 * An HTTP proxy in front of Azurite that records every Table call, so tests and benches can count storage
 * transactions per session exactly as the service would bill them.
 */
export async function startTableProxy(target: { host?: string; port: number }): Promise<TableProxy> {
  const calls: TableCall[] = [];
  const server: Server = createServer((req, res) => {
    const classified = classify(req);
    const kind = classified.kind;
    let table = classified.table;
    // A $batch holds one table's operations (entity-group transactions are per partition): name that table.
    const peek =
      kind === 'batch' ? (chunk: Buffer) => (table = batchTable(chunk.toString('latin1')) ?? table) : undefined;
    if (peek) req.once('data', peek);
    const upstream = request(
      { host: target.host ?? '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        calls.push({
          method: req.method ?? 'GET',
          table,
          kind,
          status: up.statusCode ?? 0,
          path: decodeURIComponent(req.url ?? ''),
          at: Date.now(),
        });
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    reset: () => void calls.splice(0),
    summary: () => {
      const out: Record<string, number> = {};
      for (const c of calls) out[`${c.kind} ${c.table}`] = (out[`${c.kind} ${c.table}`] ?? 0) + 1;
      return out;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
