import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { handleClientFrame, JSON_SUBPROTOCOL } from './clientProtocol';
import { Hubs, type Connection } from './hub';
import { handleRest } from './rest';
import { TokenError, verifyClientToken, type ClientClaims } from './tokens';

export interface WebPubSubEmulatorOptions {
  port?: number;
  host?: string;
  /** The access key both sides sign with; random when unset. */
  accessKey?: string;
  log?: (line: string) => void;
}

export interface WebPubSubEmulator {
  url: string;
  /** `Endpoint=…;Port=…;AccessKey=…;Version=1.0;` as the Azure portal shows it, for WEBPUBSUB_CONNECTION_STRING. */
  connectionString: string;
  accessKey: string;
  /** Live connections (tests assert on group membership). */
  hubs: Hubs;
  close(): Promise<void>;
}

const CLIENT_PATH = /^\/client\/hubs\/([A-Za-z][A-Za-z0-9_]*)\/?$/;

/**
 * A local stand-in for Azure Web PubSub: the data-plane REST API the server SDK calls, and client WebSockets
 * at `/client/hubs/{hub}` speaking json.webpubsub.azure.v1 (or plain WebSockets that only receive). Tokens are
 * HS256 JWTs signed with the access key, checked as the service checks them.
 */
export async function startWebPubSubEmulator(opts: WebPubSubEmulatorOptions = {}): Promise<WebPubSubEmulator> {
  const host = opts.host ?? '127.0.0.1';
  const accessKey = opts.accessKey ?? randomBytes(32).toString('base64');
  const log = opts.log ?? (() => {});
  const hubs = new Hubs();
  let baseUrl = '';

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', baseUrl);
    handleRest({ hubs, accessKey, baseUrl: () => baseUrl }, req, res, url).catch((err) => {
      log(`webpubsub: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 1024 * 1024,
    // A client that asks for no subprotocol is a "simple" client; one that asks only for others is refused.
    handleProtocols: (protocols) => (protocols.has(JSON_SUBPROTOCOL) ? JSON_SUBPROTOCOL : false),
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    upgrade(req, socket, head).catch((err) => {
      log(`webpubsub: upgrade failed: ${err instanceof Error ? err.message : String(err)}`);
      reject(socket, 500, 'internal error');
    });
  });

  async function upgrade(req: IncomingMessage, socket: Socket, head: Buffer) {
    const url = new URL(req.url ?? '/', baseUrl);
    const m = CLIENT_PATH.exec(url.pathname);
    if (!m) return reject(socket, 404, `no client endpoint at ${url.pathname}`);
    const hub = m[1]!;
    const offered = String(req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (offered.length && !offered.includes(JSON_SUBPROTOCOL)) {
      return reject(socket, 400, `unsupported subprotocol; the emulator speaks ${JSON_SUBPROTOCOL}`);
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    let claims: ClientClaims;
    try {
      claims = await verifyClientToken(url.searchParams.get('access_token') ?? bearer, accessKey, hub);
    } catch (err) {
      if (err instanceof TokenError) return reject(socket, 401, err.message);
      throw err;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, hub, claims, offered.length ? 'json' : 'simple'));
  }

  function accept(ws: WebSocket, hub: string, claims: ClientClaims, kind: Connection['kind']) {
    const c: Connection = {
      id: randomUUID().replace(/-/g, ''),
      hub,
      userId: claims.userId,
      roles: claims.roles,
      groups: new Set(),
      kind,
      socket: ws,
      ackIds: new Set(),
    };
    hubs.add(c);
    // Groups named in the token are joined on connect, without a join role: that is what the claim is for.
    for (const g of claims.groups) hubs.join(c, g);
    if (kind === 'json') {
      ws.send(JSON.stringify({ type: 'system', event: 'connected', userId: c.userId ?? null, connectionId: c.id }));
    }
    ws.on('message', (data, isBinary) => {
      if (kind === 'json' && !isBinary) handleClientFrame(hubs, c, data.toString('utf8'), log);
    });
    ws.on('close', () => hubs.remove(c));
    ws.on('error', () => hubs.remove(c));
  }

  await new Promise<void>((resolve, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', rejectListen);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  baseUrl = `http://${host}:${port}`;

  return {
    url: baseUrl,
    connectionString: `Endpoint=http://${host};Port=${port};AccessKey=${accessKey};Version=1.0;`,
    accessKey,
    hubs,
    close: async () => {
      for (const c of hubs.all()) c.socket.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reject(socket: Socket, status: number, message: string) {
  const body = JSON.stringify({ code: status === 401 ? 'Unauthorized' : 'BadRequest', message });
  socket.end(
    `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : status === 404 ? 'Not Found' : status === 500 ? 'Internal Server Error' : 'Bad Request'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
