import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { KeyStore } from '../auth';
import { newId } from '../protocol';
import { HttpFailure } from '../rest';
import { startupProblem, type StartupConfig } from './config';
import { liveError, parseLiveClientEvent } from './events';
import { authenticateLive } from './http';
import type { LiveService } from './service';
import type { LiveSession, LiveSink } from './session';

type Refuse = (status: number, code: string, message: string) => void;

/**
 * WebSockets of the Live surface: the primary connection (`…/live/sessions`, `session.start` first) and the
 * sideband (`…/live/sessions/{id}/attach`, which replays nothing).
 */
export function handleLiveUpgrade(
  svc: LiveService,
  keys: KeyStore,
  wss: WebSocketServer,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  url: URL,
  route: string,
  refuse: Refuse,
): void {
  try {
    authenticateLive(keys, req, url, true);
  } catch (e) {
    if (e instanceof HttpFailure) return refuse(e.status, e.code, e.message);
    throw e;
  }
  if (route === '/v1/live/sessions') {
    if (url.searchParams.has('model'))
      return refuse(400, 'unknown_parameter', "Unknown parameter: 'model'. Set the model in session.start.");
    return wss.handleUpgrade(req, socket, head, (ws) => primary(svc, ws));
  }
  const m = /^\/v1\/live\/sessions\/([^/]+)\/attach$/.exec(route);
  if (!m) return refuse(404, 'not_found', `No WebSocket endpoint at ${url.pathname} (live profile).`);
  const session = svc.get(m[1]!);
  if (!session || session.closed)
    return refuse(
      404,
      'session_not_found',
      session ? `Session ${session.id} has closed.` : `No active Live session '${m[1]!.slice(0, 64)}'.`,
    );
  wss.handleUpgrade(req, socket, head, (ws) => {
    const sink = socketSink(ws, 'sideband');
    ws.on('message', (data, isBinary) => {
      if (isBinary) return sink.send(JSON.stringify(liveError('invalid_value', 'Send JSON text events.')));
      session.handleMessage(sink, data.toString());
    });
    ws.on('close', () => session.detach(sink));
    ws.on('error', () => session.detach(sink));
    if (session.closed) return sink.close(1000, 'session closed');
    session.attach(sink, { greet: false });
  });
}

function socketSink(ws: WebSocket, role: LiveSink['role']): LiveSink {
  return {
    id: newId('conn'),
    role,
    send: (json) => {
      if (ws.readyState === ws.OPEN) ws.send(json);
    },
    close: (code = 1000, reason = '') => {
      if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
    },
  };
}

/** A primary WebSocket: nothing happens until `session.start`, which must come first. */
function primary(svc: LiveService, ws: WebSocket): void {
  const sink = socketSink(ws, 'primary');
  let session: LiveSession | undefined;
  ws.on('message', (data, isBinary) => {
    if (isBinary) return sink.send(JSON.stringify(liveError('invalid_value', 'Send JSON text events.')));
    const raw = data.toString();
    if (session) return session.handleMessage(sink, raw);
    const parsed = parseLiveClientEvent(raw, 'primary');
    if (!parsed.ok) return sink.send(JSON.stringify(parsed.error));
    const e = parsed.event;
    const cid = typeof e.event_id === 'string' ? e.event_id : undefined;
    if (e.type !== 'session.start')
      return sink.send(
        JSON.stringify(
          liveError('invalid_value', 'Send session.start first and wait for session.started.', {
            param: 'type',
            clientEventId: cid,
          }),
        ),
      );
    const p = startupProblem(e.session, 'websocket');
    if (p) return sink.send(JSON.stringify(liveError(p.code, p.message, { param: p.param, clientEventId: cid })));
    session = svc.create(e.session as StartupConfig, 'websocket');
    session.attach(sink, { greet: true, clientEventId: cid });
  });
  ws.on('close', (code) => {
    if (!session) return;
    session.detach(sink);
    session.close(code === 1000 || code === 1001 || code === 1005 ? 'remote_hangup' : 'connection_lost');
  });
  ws.on('error', () => session?.close('connection_lost'));
}
