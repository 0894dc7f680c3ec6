import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RTCDataChannel } from 'werift';
import type { KeyStore } from '../auth';
import { credentialOf, type EmulatorProfile } from '../profile';
import { newId } from '../protocol';
import { HttpFailure, readBody, readJson, sendJson } from '../rest';
import { answerOffer } from '../webrtc';
import { startupProblem, type StartupConfig } from './config';
import { LiveError, type LiveService } from './service';
import type { LiveSession } from './session';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * The service a Live path belongs to: `/v1/live/…` is OpenAI's (bearer only), `/openai/v1/live/…` Azure's
 * (`api-key` header, or a bearer holding a key or an Entra token).
 */
export function liveServiceOf(pathname: string): EmulatorProfile {
  return pathname.startsWith('/openai/') ? 'azure-openai' : 'openai';
}

/** Authenticates a Live request as its service does; Live has no ephemeral keys and no browser credentials. */
export function authenticateLive(keys: KeyStore, req: IncomingMessage, url: URL, websocket: boolean): void {
  const service = liveServiceOf(url.pathname);
  const credential = credentialOf(service, req.headers, url, websocket);
  const r = keys.authenticate(credential?.via === 'subprotocol' ? undefined : credential, {
    allowEphemeral: false,
    profile: service,
  });
  if (!r.ok) throw new HttpFailure(r.status, r.code, r.message);
}

const problem = (p: { code: string; message: string; param: string } | undefined) => {
  if (p) throw new HttpFailure(400, p.code, p.message, p.param);
};

/** `POST …/live/sessions` and the call controls under `…/live/sessions/{id}/…`. `route` starts at `/v1/live`. */
export async function handleLiveRest(
  svc: LiveService,
  keys: KeyStore,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  route: string,
): Promise<void> {
  const method = req.method ?? 'GET';
  authenticateLive(keys, req, url, false);
  try {
    if (method === 'POST' && route === '/v1/live/sessions') return await createWebRtc(svc, req, res);
    const m = /^\/v1\/live\/sessions\/([^/]+)\/(accept|reject|refer|hangup)$/.exec(route);
    if (method === 'POST' && m) {
      const [, id, action] = m as unknown as [string, string, string];
      const json = readJson(await readBody(req));
      if (action === 'accept') {
        if (!isObject(json)) throw new HttpFailure(400, 'invalid_value', 'Expected a JSON object.');
        const extra = Object.keys(json).find((k) => k !== 'session');
        if (extra) problem({ code: 'unknown_parameter', message: `Unknown parameter: '${extra}'.`, param: extra });
        problem(startupProblem(json.session, 'sip'));
        svc.accept(id, json.session as StartupConfig);
      } else if (action === 'reject') {
        const code = isObject(json) ? json.status_code : undefined;
        if (code === undefined)
          problem({
            code: 'missing_required_parameter',
            message: "Missing required parameter: 'status_code'.",
            param: 'status_code',
          });
        if (typeof code !== 'number' || !Number.isInteger(code) || code < 300 || code > 699)
          problem({
            code: 'invalid_value',
            message: "Invalid value for 'status_code': a SIP status between 300 and 699.",
            param: 'status_code',
          });
        svc.reject(id, code as number);
      } else if (action === 'refer') {
        const target = isObject(json) ? json.target_uri : undefined;
        if (typeof target !== 'string' || !target.trim())
          problem({
            code: target === undefined ? 'missing_required_parameter' : 'invalid_value',
            message: "A nonblank 'target_uri' is required.",
            param: 'target_uri',
          });
        svc.refer(id, (target as string).trim());
      } else svc.hangup(id);
      res.writeHead(200, { 'content-length': 0 });
      res.end();
      return;
    }
  } catch (e) {
    if (e instanceof LiveError) throw new HttpFailure(e.status, e.code, e.message, e.param);
    throw e;
  }
  throw new HttpFailure(404, 'not_found', `Unknown route ${method} ${url.pathname}.`);
}

async function createWebRtc(svc: LiveService, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const json = readJson(await readBody(req));
  if (!isObject(json))
    throw new HttpFailure(400, 'invalid_value', 'Expected a JSON object with session and transport.');
  const extra = Object.keys(json).find((k) => k !== 'session' && k !== 'transport');
  if (extra) problem({ code: 'unknown_parameter', message: `Unknown parameter: '${extra}'.`, param: extra });
  const t = json.transport;
  if (!isObject(t))
    problem({
      code: 'missing_required_parameter',
      message: "Missing required parameter: 'transport'.",
      param: 'transport',
    });
  const transport = t as Json;
  const tExtra = Object.keys(transport).find((k) => k !== 'type' && k !== 'sdp');
  if (tExtra)
    problem({
      code: 'unknown_parameter',
      message: `Unknown parameter: 'transport.${tExtra}'.`,
      param: `transport.${tExtra}`,
    });
  if (transport.type !== 'webrtc')
    problem({
      code: 'invalid_value',
      message: "Invalid value for 'transport.type': expected 'webrtc'.",
      param: 'transport.type',
    });
  if (typeof transport.sdp !== 'string' || !transport.sdp)
    problem({
      code: 'missing_required_parameter',
      message: "Missing required parameter: 'transport.sdp'.",
      param: 'transport.sdp',
    });
  problem(startupProblem(json.session, 'webrtc'));
  const session = svc.create(json.session as StartupConfig, 'webrtc');
  let sdp: string;
  try {
    const peer = await answerOffer(transport.sdp as string, session.engine, svc.ctx, {
      onChannel: (dc) => attachDataChannel(dc, session),
    });
    session.onClose(() => void peer.close());
    session.reflectMedia();
    sdp = peer.sdp;
  } catch (err) {
    session.close('connection_lost');
    throw new HttpFailure(
      400,
      'invalid_offer',
      `Could not answer the SDP offer: ${(err as Error).message}`,
      'transport.sdp',
    );
  }
  svc.connected(session);
  sendJson(res, 200, { session: { id: session.id }, transport: { type: 'webrtc', sdp } });
}

/** The browser's channel: restricted by `client.data_channel`; greeted with `session.started` when it opens. */
function attachDataChannel(dc: RTCDataChannel, session: LiveSession): void {
  const sink = {
    id: newId('conn'),
    role: 'datachannel' as const,
    send: (json: string) => {
      if (dc.readyState === 'open') dc.send(json);
    },
    close: () => dc.close(),
  };
  dc.onMessage.subscribe((data) =>
    session.handleMessage(sink, typeof data === 'string' ? data : data.toString('utf8')),
  );
  dc.stateChanged.subscribe((state) => {
    if (state === 'open') session.attach(sink, { greet: true });
    if (state !== 'closed') return;
    session.detach(sink);
    session.close('remote_hangup');
  });
  if (dc.readyState === 'open') session.attach(sink, { greet: true });
}
