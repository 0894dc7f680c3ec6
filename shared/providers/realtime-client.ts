import WebSocket from 'ws';
import { splitForCallAccept } from './call-accept';
import { authHeaders, type ProviderAuth } from './credentials';
import { realtimeRest } from './sdk-rest';
import { UpstreamError, type ProviderCapabilities, type RealtimeProvider } from './types';
import type { ProviderName } from '../config/index';

/** Produces the auth headers for one request; bearer providers cache and refresh their token themselves. */
export type AuthHeaders = () => Promise<Record<string, string>>;

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;
/** Creates a client WebSocket; injectable so unit tests can record the URL and headers. */
export type WebSocketFactory = (url: string, headers: Record<string, string>, handshakeTimeoutMs: number) => WebSocket;

export interface RealtimeClientOptions {
  fetch?: FetchLike;
  webSocket?: WebSocketFactory;
  /** Upper bound for one REST call or WebSocket handshake. */
  timeoutMs?: number;
}

const defaultWebSocket: WebSocketFactory = (url, headers, handshakeTimeout) =>
  new WebSocket(url, { headers, handshakeTimeout });

/** Seconds from a Retry-After header (delta-seconds or an HTTP date); undefined when absent or unusable. */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Short, secret-free description of an upstream error body (GA shape `{error:{message,code}}` when present). */
function describeBody(text: string): string {
  try {
    const j = JSON.parse(text) as { error?: { message?: string; code?: string } };
    if (j.error?.message) return j.error.code ? `${j.error.code}: ${j.error.message}` : j.error.message;
  } catch {
    /* not JSON */
  }
  return text.slice(0, 200);
}

export interface HttpClient {
  post(path: string, body: unknown): Promise<unknown>;
}

/** JSON POSTs against one REST base, with auth, a timeout, and every non-2xx mapped to UpstreamError. */
export function httpClient(base: string, auth: AuthHeaders, opts: RealtimeClientOptions): HttpClient {
  const doFetch = opts.fetch ?? ((input, init) => fetch(input, init));
  const timeoutMs = opts.timeoutMs ?? 10_000;
  return {
    async post(path, body) {
      const headers: Record<string, string> = { ...(await auth()) };
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await doFetch(`${base}${path}`, {
          method: 'POST',
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const e = err as Error;
        if (e.name === 'TimeoutError') throw new UpstreamError(504, `upstream timed out after ${timeoutMs} ms`);
        throw new UpstreamError(502, `upstream unreachable: ${(e.cause as Error | undefined)?.message ?? e.message}`);
      }
      const text = await res.text();
      if (!res.ok) {
        throw new UpstreamError(
          res.status,
          `upstream answered ${res.status}: ${describeBody(text)}`,
          parseRetryAfter(res.headers.get('retry-after')),
        );
      }
      if (!text) return undefined;
      try {
        return JSON.parse(text);
      } catch {
        throw new UpstreamError(502, 'upstream answered with a body that is not JSON');
      }
    },
  };
}

/**
 * The service greets a new connection at once (`session.created` may arrive in the same packet as the
 * upgrade answer), before the caller of openSocket has had a chance to listen. Messages are held until the
 * first `message` listener is added, then delivered to it in order, so nothing is lost in that gap.
 */
export function holdMessagesUntilListened(ws: WebSocket): void {
  const held: [WebSocket.RawData, boolean][] = [];
  const hold = (data: WebSocket.RawData, isBinary: boolean) => void held.push([data, isBinary]);
  ws.on('message', hold);
  const onNewListener = (event: string | symbol) => {
    if (event !== 'message') return;
    ws.off('newListener', onNewListener);
    // The listener is added right after this event fires; deliver once it is in place.
    queueMicrotask(() => {
      ws.off('message', hold);
      for (const [data, isBinary] of held.splice(0)) ws.emit('message', data, isBinary);
    });
  };
  ws.on('newListener', onNewListener);
}

/** Opens a WebSocket with auth headers; resolves on `open`, maps a refused upgrade to UpstreamError. */
export async function openSocket(url: string, auth: AuthHeaders, opts: RealtimeClientOptions): Promise<WebSocket> {
  const make = opts.webSocket ?? defaultWebSocket;
  const ws = make(url, await auth(), opts.timeoutMs ?? 10_000);
  holdMessagesUntilListened(ws);
  return new Promise<WebSocket>((resolve, reject) => {
    const cleanup = () => {
      ws.off('open', onOpen);
      ws.off('error', onError);
      ws.off('unexpected-response', onUnexpected);
    };
    const onOpen = () => (cleanup(), resolve(ws));
    const onError = (err: Error) => {
      cleanup();
      reject(new UpstreamError(502, `WebSocket to upstream failed: ${err.message}`));
    };
    const onUnexpected = (_req: unknown, res: import('node:http').IncomingMessage) => {
      cleanup();
      const status = res.statusCode ?? 502;
      const retryAfter = parseRetryAfter(res.headers['retry-after'] as string | undefined);
      res.resume();
      // terminate() reports "closed before established" as an error event; nobody needs it any more.
      ws.on('error', () => {});
      ws.terminate();
      reject(new UpstreamError(status, `upstream refused the WebSocket upgrade with ${status}`, retryAfter));
    };
    ws.on('open', onOpen);
    ws.on('error', onError);
    ws.on('unexpected-response', onUnexpected);
  });
}

export interface GaRealtimeSpec {
  name: ProviderName;
  capabilities: ProviderCapabilities;
  /** REST base ending in `/realtime`, e.g. `https://r.openai.azure.com/openai/v1/realtime`. */
  restBase: string;
  /** WebSocket base, e.g. `wss://r.openai.azure.com/openai/v1/realtime`. */
  wsBase: string;
  auth: ProviderAuth;
  /** Query the browser's WebRTC URL carries (Azure: `webrtcfilter=on`). */
  webrtcQuery?: string;
}

/**
 * The GA Realtime surface shared by OpenAI, Azure OpenAI (v1 paths) and the emulator: they differ only in
 * base URLs and auth, so each provider folder is a small spec over this. REST goes through the `openai`
 * package; the WebSockets are plain `ws` with the same auth.
 */
export function gaRealtimeProvider(spec: GaRealtimeSpec, opts: RealtimeClientOptions = {}): RealtimeProvider {
  const rest = realtimeRest(spec.restBase.replace(/\/realtime$/, ''), spec.auth, opts);
  const wsAuth = authHeaders(spec.auth);
  return {
    name: spec.name,
    capabilities: spec.capabilities,
    mintClientSecret: (session, ttlSeconds) => rest.mintClientSecret(session, ttlSeconds),
    connectUrls(model: string) {
      return {
        webrtcUrl: `${spec.restBase}/calls${spec.webrtcQuery ? `?${spec.webrtcQuery}` : ''}`,
        websocketUrl: `${spec.wsBase}?model=${encodeURIComponent(model)}`,
      };
    },
    // The Calls API refuses turn-detection tuning at accept; the sideband applies it once attached.
    acceptCall: (callId, session) => rest.accept(callId, splitForCallAccept(session).acceptable),
    rejectCall: (callId, statusCode) => rest.reject(callId, statusCode),
    referCall: (callId, targetUri) => rest.refer(callId, targetUri),
    hangupCall: (callId) => rest.hangup(callId),
    openSideband(callId) {
      return openSocket(`${spec.wsBase}?call_id=${encodeURIComponent(callId)}`, wsAuth, opts);
    },
    openDirect(model) {
      return openSocket(`${spec.wsBase}?model=${encodeURIComponent(model)}`, wsAuth, opts);
    },
  };
}

/** `https://x/` → `https://x`; `wss` for `https`, `ws` for `http`. */
export const trimSlash = (u: string) => u.replace(/\/+$/, '');
export const toWs = (u: string) => u.replace(/^http/i, 'ws');
