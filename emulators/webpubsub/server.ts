import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { handleClientFrame, JSON_SUBPROTOCOL, RELIABLE_SUBPROTOCOL } from './clientProtocol';
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
/** How long a dropped reliable connection stays recoverable (the client SDK tries for 30 s). */
const RECOVERY_WINDOW_MS = 30_000;

/**
 * A local stand-in for Azure Web PubSub: the data-plane REST API the server SDK calls, and client WebSockets
 * at `/client/hubs/{hub}` speaking json.webpubsub.azure.v1 or json.reliable.webpubsub.azure.v1 (or plain
 * WebSockets that only receive). Tokens are HS256 JWTs signed with the access key, checked as the service
 * checks them.
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
    handleProtocols: (protocols) =>
      protocols.has(RELIABLE_SUBPROTOCOL)
        ? RELIABLE_SUBPROTOCOL
        : protocols.has(JSON_SUBPROTOCOL)
          ? JSON_SUBPROTOCOL
          : false,
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
    const reliable = offered.includes(RELIABLE_SUBPROTOCOL);
    if (offered.length && !reliable && !offered.includes(JSON_SUBPROTOCOL)) {
      return reject(
        socket,
        400,
        `unsupported subprotocol; the emulator speaks ${JSON_SUBPROTOCOL} and ${RELIABLE_SUBPROTOCOL}`,
      );
    }
    const recoverId = url.searchParams.get('awps_connection_id');
    if (recoverId && reliable) {
      // Recovery is authenticated by the reconnection token, not the (possibly expired) access token.
      const c = hubs.connection(hub, recoverId);
      const ok =
        c?.reliable &&
        !c.closedByServer &&
        c.reliable.reconnectionToken === url.searchParams.get('awps_reconnection_token');
      return wss.handleUpgrade(req, socket, head, (ws) => (ok ? recover(c!, ws) : refuseRecovery(ws)));
    }
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    let claims: ClientClaims;
    try {
      claims = await verifyClientToken(url.searchParams.get('access_token') ?? bearer, accessKey, hub);
    } catch (err) {
      if (err instanceof TokenError) return reject(socket, 401, err.message);
      throw err;
    }
    wss.handleUpgrade(req, socket, head, (ws) => accept(ws, hub, claims, offered.length ? 'json' : 'simple', reliable));
  }

  function accept(ws: WebSocket, hub: string, claims: ClientClaims, kind: Connection['kind'], reliable: boolean) {
    const c: Connection = {
      id: randomUUID().replace(/-/g, ''),
      hub,
      userId: claims.userId,
      roles: claims.roles,
      groups: new Set(),
      kind,
      socket: ws,
      ackIds: new Set(),
      reliable: reliable
        ? { reconnectionToken: randomBytes(24).toString('base64url'), lastSequenceId: 0, unacked: [] }
        : undefined,
    };
    hubs.add(c);
    // Groups named in the token are joined on connect, without a join role: that is what the claim is for.
    for (const g of claims.groups) hubs.join(c, g);
    attach(c, ws);
  }

  function attach(c: Connection, ws: WebSocket) {
    c.socket = ws;
    if (c.kind === 'json') {
      ws.send(
        JSON.stringify({
          type: 'system',
          event: 'connected',
          userId: c.userId ?? null,
          connectionId: c.id,
          ...(c.reliable ? { reconnectionToken: c.reliable.reconnectionToken } : {}),
        }),
      );
    }
    ws.on('message', (data, isBinary) => {
      if (c.kind === 'json' && !isBinary) handleClientFrame(hubs, c, data.toString('utf8'), log);
    });
    // A close frame (1000, 1005) is the client leaving; only a connection lost without one (1006) recovers.
    const gone = (code = 1006) => {
      if (c.socket !== ws) return; // a recovered connection has moved on to another socket
      if (!c.reliable || c.closedByServer || code !== 1006) return hubs.remove(c);
      // Still in its groups and collecting messages while the client reconnects.
      clearTimeout(c.reliable.expiry);
      c.reliable.expiry = setTimeout(() => hubs.remove(c), RECOVERY_WINDOW_MS);
      c.reliable.expiry.unref();
    };
    ws.on('close', (code) => gone(code));
    ws.on('error', () => gone());
  }

  function recover(c: Connection, ws: WebSocket) {
    clearTimeout(c.reliable!.expiry);
    c.reliable!.expiry = undefined;
    const old = c.socket;
    attach(c, ws);
    old.terminate();
    // Everything not yet acked, in order; the client drops what it already has by sequence id.
    for (const m of c.reliable!.unacked) ws.send(m.frame);
  }

  function refuseRecovery(ws: WebSocket) {
    ws.send(JSON.stringify({ type: 'system', event: 'disconnected', message: 'the connection cannot be recovered' }));
    // 1008 tells the client SDK to stop recovering and start a new connection.
    ws.close(1008, 'connection not recoverable');
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
      for (const c of hubs.all()) {
        clearTimeout(c.reliable?.expiry);
        c.socket.terminate();
      }
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reject(socket: Socket, status: number, message: string) {
  const body = JSON.stringify({ code: status === 401 ? 'Unauthorized' : 'BadRequest', message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
