import { createServer, STATUS_CODES, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { RealtimeSessionCreateRequest } from 'openai/resources/realtime/realtime';
import { KeyStore, type Principal } from './auth';
import { credentialOf, routeOf, serviceProfileOf, type EmulatorProfile } from './profile';
import { Calls, SurfaceClaim } from './calls';
import type { EmulatorContext, Recognizer, Sink } from './context';
import { Faults, type FaultSpec } from './faults';
import { errorEvent, newId } from './protocol';
import { SpectralRecognizer } from './recognizer';
import { handleRest, HttpFailure, sendError, type RestDeps } from './rest';
import { DEFAULT_SCENARIOS_DIR, loadScenarios } from './scenarios';
import { RealtimeSession } from './session';
import { mergeSession, normalizeSession } from './session-config';
import { espeak, Speech, toneFor } from './tts';
import { RATE } from './audio';
import { VoiceLiveCodec } from './voice-live';
import { answerOffer } from './webrtc';
import { createLiveSurface } from './live/index';
import { LiveError } from './live/service';
import { callSummaries as summarizeCalls, sessionSummaries, type CallSummary, type SessionSummary } from './summary';

export type { FaultSpec } from './faults';
export { PROFILES, parseProfile, type EmulatorProfile } from './profile';
export { registerTextRule, type TextRule } from './text-model';
export { signWebhook } from './webhooks';
export type { CallSummary, SessionSummary } from './summary';

export interface RealtimeEmulatorOptions {
  /** The service it stands in for: its paths, auth and request shapes (README.md, "Rules"). Default azure-openai. */
  profile?: EmulatorProfile;
  port?: number;
  host?: string;
  /** Accepted API keys (`api-key` header or `Authorization: Bearer`). Default: `emulator-dev-key`. */
  apiKeys?: string[];
  /** Where `realtime.call.incoming` goes, signed with this `whsec_…` secret. */
  webhook?: { url: string; secret: string; maxAttempts?: number; backoffMs?: number; timeoutMs?: number };
  scenariosDir?: string;
  /** How long an incoming SIP call rings before it expires unaccepted. Default 30 s. */
  callExpiryMs?: number;
  /** Model used when a session names none. */
  defaultModel?: string;
  /** Speak with espeak-ng when installed (default); false forces the tone stand-in. */
  useEspeak?: boolean;
  /** Maximum session duration; the service's is 60 minutes. */
  maxSessionMs?: number;
  /**
   * Live profile: which webhooks a ringing SIP call raises. `live` (default): `live.transport.incoming` only;
   * `both`: also `realtime.call.incoming` for the same call, and the first accept (or reject, refer) on either
   * API decides which one serves it, as the service does.
   */
  sipSurfaces?: 'live' | 'both';
  /** How often a Live session sends `session.usage.updated` (the service: about every 15 s). */
  liveUsageIntervalMs?: number;
  /** Clock for ephemeral-key expiry (tests move it forward instead of waiting). */
  now?: () => number;
  log?: (line: string) => void;
}

export interface RealtimeEmulator {
  url: string;
  profile: EmulatorProfile;
  stop(): Promise<void>;
  faults: { set(f: FaultSpec): void; clear(): void };
  simulateIncomingSipCall(o: {
    from: string;
    to: string;
    headers?: { name: string; value: string }[];
  }): Promise<{ callId: string; realtimeCallId?: string }>;
  sessions(): SessionSummary[];
  calls(): CallSummary[];
  /**
   * The caller of an active call says `text` (espeak-ng speech, then a second of silence), as if it came in
   * over the call's media: VAD, recognition and the response run as for real audio. SIP calls have no media
   * leg in the emulator, so this is how a test speaks on one.
   */
  simulateCallerSpeech(callId: string, text: string, opts?: { realTime?: boolean }): Promise<void>;
  /**
   * A SIP caller presses `keys` (0-9, *, #, A-D): `input_audio_buffer.dtmf_event_received` on a Realtime call,
   * `transport.dtmf.received` to a Live session's sidebands.
   */
  simulateDtmf(callId: string, keys: string): void;
  /** Resolves once spoken samples of every scenario are ready for recognition. */
  ready(): Promise<void>;
}

export async function startRealtimeEmulator(opts: RealtimeEmulatorOptions = {}): Promise<RealtimeEmulator> {
  const log = opts.log ?? (() => {});
  const scenarios = loadScenarios(opts.scenariosDir ?? DEFAULT_SCENARIOS_DIR);
  const speech = new Speech({ useEspeak: opts.useEspeak });
  const recognizer = new SpectralRecognizer(scenarios, { useEspeak: opts.useEspeak, log });
  const direct = new Set<RealtimeSession>();
  const faults = new Faults((drop) => {
    for (const s of allSessions()) {
      if ((drop.callId && s.callId !== drop.callId) || (drop.sessionId && s.id !== drop.sessionId)) continue;
      for (const sink of [...s.sinks])
        if (sink.kind === 'websocket') sink.close(drop.code, 'connection dropped (fault injection)');
    }
    live?.dropSockets(drop);
  });
  const ctx: EmulatorContext = {
    scenarios,
    speech,
    recognizer: recognizer as Recognizer,
    faults,
    log,
    maxSessionMs: opts.maxSessionMs,
  };
  const profile = opts.profile ?? 'azure-openai';
  const defaultModel = opts.defaultModel ?? 'gpt-realtime';
  const keys = new KeyStore(opts.apiKeys ?? ['emulator-dev-key'], opts.now);
  const calls = new Calls(ctx, { webhook: opts.webhook, callExpiryMs: opts.callExpiryMs ?? 30_000, defaultModel });

  function allSessions(): RealtimeSession[] {
    const list = [...direct];
    for (const c of calls.byId.values()) if (c.session) list.push(c.session);
    return list;
  }

  const deps: RestDeps = {
    profile,
    ctx,
    keys,
    calls,
    defaultModel,
    async createWebRtcCall(offer, session, principal, o) {
      const config =
        principal.kind === 'ephemeral' ? mergeSessionRequest(principal.session, session) : (session ?? undefined);
      const call = calls.createWebRtc(config, principal.kind === 'ephemeral');
      try {
        const peer = await answerOffer(offer, call.session!, ctx, { filterEvents: o.filterEvents });
        call.closeMedia = peer.close;
        return { callId: call.id, sdp: peer.sdp };
      } catch (err) {
        calls.finish(call, 'ended', 'bad offer');
        throw new HttpFailure(400, 'invalid_offer', `Could not answer the SDP offer: ${(err as Error).message}`, 'sdp');
      }
    },
    async simulateIncomingSipCall(o) {
      if (!live) return { callId: calls.incomingSip(o).id };
      if (opts.sipSurfaces !== 'both') return live.simulateIncomingSipCall(o);
      // The same INVITE offered on both APIs; whichever is answered first serves it.
      const claim = new SurfaceClaim();
      const realtime = calls.incomingSip(o, claim);
      const { callId } = live.simulateIncomingSipCall(o, { claim, sipHeaders: realtime.sipHeaders });
      return { callId, realtimeCallId: realtime.id };
    },
    simulateCallerSpeech,
    summary: () => ({ sessions: sessions(), calls: callSummaries() }),
    simulateDtmf(id, keys) {
      if (!live?.service.get(id)) return void calls.dtmf(id, keys);
      try {
        for (const key of keys) live.service.dtmf(id, key);
      } catch (e) {
        if (e instanceof LiveError) throw new HttpFailure(e.status, e.code, e.message);
        throw e;
      }
    },
    live: (req, res, url, path) => live?.handleRest(req, res, url, path) ?? Promise.resolve(false),
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    // Browsers POST their SDP offer straight to the service (with an ek_ key), so it answers CORS like the service.
    if (req.headers.origin) {
      res.setHeader('access-control-allow-origin', req.headers.origin);
      res.setHeader('vary', 'origin');
      res.setHeader('access-control-expose-headers', 'location, retry-after');
    }
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
        'access-control-allow-headers':
          req.headers['access-control-request-headers'] ?? 'authorization, api-key, content-type',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    handleRest(deps, req, res, url).catch((err) => {
      if (err instanceof HttpFailure) return sendError(res, err);
      log(`realtime emulator: ${(err as Error).stack ?? err}`);
      if (!res.headersSent) sendError(res, new HttpFailure(500, 'server_error', 'The emulator had an internal error.'));
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: 20 * 1024 * 1024,
    // Browsers authenticate with subprotocols; answer with the plain `realtime` one, never echo the key.
    handleProtocols: (protocols) => (protocols.has('realtime') ? 'realtime' : false),
  });
  const live =
    profile === 'live'
      ? createLiveSurface(ctx, keys, wss, {
          webhook: opts.webhook,
          callExpiryMs: opts.callExpiryMs ?? 30_000,
          usageIntervalMs: opts.liveUsageIntervalMs,
        })
      : undefined;

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // The HTTP server stops listening for errors on an upgraded socket: a client resetting a refused
    // upgrade (a worker giving up on an ended call) would otherwise crash the process.
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://emulator');
    const refuse = (status: number, code: string, message: string, retryAfter?: number) => {
      const body = JSON.stringify({
        error: { message, type: status >= 500 ? 'server_error' : 'invalid_request_error', code, param: null },
      });
      const extra = retryAfter !== undefined ? `retry-after: ${retryAfter}\r\n` : '';
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\n${extra}connection: close\r\n\r\n${body}`,
      );
    };
    const route = routeOf(profile, url.pathname);
    const voiceLive = profile === 'voice-live';
    const served = live
      ? route?.startsWith('/v1/live/') || route === '/v1/realtime'
      : route === (voiceLive ? '/voice-live/realtime' : '/v1/realtime');
    if (!route || !served)
      return refuse(404, 'not_found', `No WebSocket endpoint at ${url.pathname} (${profile} profile).`);
    const failure = faults.restFailure(route);
    if (failure)
      return refuse(
        failure.status,
        failure.status === 429 ? 'rate_limit_exceeded' : 'server_error',
        'Refused (injected by the emulator).',
        failure.retryAfterSeconds,
      );
    if (live && route.startsWith('/v1/live/')) return live.handleUpgrade(req, socket, head, url, route, refuse);
    const callId = voiceLive ? null : url.searchParams.get('call_id');
    const model = url.searchParams.get('model');
    if (voiceLive) {
      const problem = voiceLiveVersionProblem(url.searchParams.get('api-version'));
      if (problem) return refuse(400, problem.code, problem.message);
    }
    const credential = credentialOf(profile, req.headers, url, true);
    const auth = keys.authenticate(credential, {
      allowEphemeral: !callId,
      profile: serviceProfileOf(profile, url.pathname),
    });
    if (!auth.ok) return refuse(401, auth.code, auth.message);
    let session: RealtimeSession;
    if (callId) {
      const call = calls.get(callId);
      if (!call || !call.session || call.state !== 'active') {
        return refuse(
          404,
          'call_not_found',
          call ? `Call ${callId} is ${call.state}.` : `No active call with id '${callId}'.`,
        );
      }
      session = call.session;
    } else {
      if (!model && (voiceLive || auth.principal.kind !== 'ephemeral'))
        return refuse(400, 'missing_required_parameter', "Missing required parameter: 'model'.");
      session = newDirectSession(auth.principal, model);
    }
    const codec = voiceLive ? new VoiceLiveCodec() : undefined;
    wss.handleUpgrade(req, socket, head, (ws) => attachSocket(ws, session, auth.principal, codec));
  });

  async function simulateCallerSpeech(callId: string, text: string, o: { realTime?: boolean } = {}): Promise<void> {
    if (live) return live.simulateCallerSpeech(callId, text, o);
    const call = calls.get(callId);
    if (!call?.session || call.state !== 'active')
      throw new HttpFailure(404, 'call_not_found', `No active call with id '${callId}'.`);
    const speech = await espeak(text).catch(() => toneFor(text));
    await call.session.injectAudio(
      new Int16Array([...new Int16Array(RATE / 5), ...speech, ...new Int16Array(RATE)]),
      o.realTime,
    );
  }

  function newDirectSession(principal: Principal, model: string | null): RealtimeSession {
    const ephemeral = principal.kind === 'ephemeral';
    const config = ephemeral ? principal.session : ({ type: 'realtime' } as Partial<RealtimeSessionCreateRequest>);
    const s = new RealtimeSession(ctx, {
      kind: 'direct',
      model: (ephemeral ? principal.session.model : model) ?? defaultModel,
      config,
      ephemeral,
    });
    direct.add(s);
    s.onEnd(() => direct.delete(s));
    return s;
  }

  function attachSocket(ws: WebSocket, session: RealtimeSession, principal: Principal, codec?: VoiceLiveCodec): void {
    const sink: Sink = {
      id: newId('conn'),
      kind: 'websocket',
      principal,
      send: (json) => {
        const out = codec ? codec.serverFromGa(json) : json;
        if (out !== undefined && ws.readyState === ws.OPEN) ws.send(out);
      },
      close: (code = 1000, reason = '') => {
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(code, reason);
      },
    };
    ws.on('message', (data, isBinary) => {
      if (isBinary)
        return sink.send(
          JSON.stringify(errorEvent('invalid_value', 'Binary frames are not supported; send JSON text events.')),
        );
      if (!codec) return session.handleMessage(sink, data.toString());
      const rewritten = codec.clientToGa(data.toString());
      if ('forward' in rewritten) session.handleMessage(sink, rewritten.forward);
      else if ('reply' in rewritten && ws.readyState === ws.OPEN) ws.send(rewritten.reply);
    });
    ws.on('close', () => session.detach(sink));
    ws.on('error', () => session.detach(sink));
    if (session.ended) return sink.close(1000, 'session ended');
    session.attach(sink);
  }

  function sessions(): SessionSummary[] {
    return [...sessionSummaries(allSessions(), calls), ...(live?.sessions() ?? [])];
  }

  function callSummaries(): CallSummary[] {
    return [...summarizeCalls(calls), ...(live?.calls() ?? [])];
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${opts.host ?? '127.0.0.1'}:${port}`;
  recognizer.prepare();
  log(`realtime emulator on ${url} (speech: ${speech.engine}, ${scenarios.length} scenarios)`);

  return {
    url,
    profile,
    faults: { set: (f) => faults.set(f), clear: () => faults.clear() },
    simulateIncomingSipCall: deps.simulateIncomingSipCall,
    simulateCallerSpeech,
    simulateDtmf: deps.simulateDtmf,
    sessions,
    calls: callSummaries,
    ready: () => recognizer.prepare(),
    async stop() {
      calls.stop();
      live?.stop();
      for (const s of [...direct]) s.end('emulator stopped', 1001);
      for (const c of wss.clients) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Voice Live wants an `api-version`; the emulator speaks the 2025-10-01 protocol and later ones. */
function voiceLiveVersionProblem(version: string | null): { code: string; message: string } | undefined {
  if (!version) return { code: 'missing_required_parameter', message: "Missing required parameter: 'api-version'." };
  const date = /^(\d{4}-\d{2}-\d{2})(-preview)?$/.exec(version)?.[1];
  if (!date || date < '2025-10-01')
    return {
      code: 'unsupported_api_version',
      message: `api-version '${version.slice(0, 40)}' is not emulated: use 2025-10-01 or later.`,
    };
  return undefined;
}

/** A WebRTC offer's own session on top of the ephemeral key's, as a `session.update` would apply it. */
function mergeSessionRequest(
  base: RealtimeSessionCreateRequest,
  extra: Partial<RealtimeSessionCreateRequest> | undefined,
): Partial<RealtimeSessionCreateRequest> {
  if (!extra) return base;
  return mergeSession(normalizeSession('sess_merge', base, base.model ?? 'gpt-realtime'), extra);
}
