import { readBody as readCapped } from '../../shared/http/body';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { RealtimeSessionCreateRequest } from 'openai/resources/realtime/realtime';
import type { KeyStore, Principal } from './auth';
import { CallError, type Calls } from './calls';
import type { EmulatorContext } from './context';
import { faultSpecSchema } from './faults';
import { credentialOf, routeOf, serviceProfileOf, type EmulatorProfile } from './profile';
import { newId, sessionSchema } from './protocol';
import { normalizeSession } from './session-config';
import { acceptProblem, clientSecretProblem, unknownSessionField, type ParamProblem } from './strict';
import { completeChat, type ChatRequest } from './text-model';

export const MAX_BODY = 4 * 1024 * 1024;

export class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The OpenAI error body: `{ error: { message, type, param, code } }`. */
export function sendError(res: ServerResponse, e: HttpFailure): void {
  const type =
    e.status === 401
      ? 'invalid_request_error'
      : e.status === 429
        ? 'rate_limit_error'
        : e.status >= 500
          ? 'server_error'
          : 'invalid_request_error';
  sendJson(res, e.status, { error: { message: e.message, type, param: e.param, code: e.code } }, e.headers);
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const body = await readCapped(req, MAX_BODY);
  if (!body) throw new HttpFailure(413, 'request_too_large', `Request body exceeds ${MAX_BODY} bytes.`);
  return body;
}

export function readJson(body: Buffer): unknown {
  if (!body.length) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpFailure(400, 'invalid_json', 'We could not parse the JSON body of your request.');
  }
}

export function parseJsonBody<T>(body: Buffer | { json: unknown }, schema: z.ZodType<T>): T {
  const json = Buffer.isBuffer(body) ? readJson(body) : body.json;
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    const param = i.path.join('.') || null;
    throw new HttpFailure(400, 'invalid_value', `Invalid value for '${param ?? 'body'}': ${i.message}.`, param);
  }
  return parsed.data;
}

export const sessionRequestSchema = sessionSchema;
const clientSecretSchema = z.object({
  expires_after: z
    .object({ anchor: z.literal('created_at').optional(), seconds: z.number().int().min(10).max(7200) })
    .optional(),
  session: sessionRequestSchema.optional(),
});
const rejectSchema = z.object({ status_code: z.number().int().min(400).max(699).optional() });
const referSchema = z.object({ target_uri: z.string().min(1) });
const chatSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.looseObject({ role: z.string() })).min(1),
});
const dtmfSchema = z.object({ keys: z.string().regex(/^[0-9*#A-D]{1,32}$/, 'keypad keys: 0-9, *, #, A-D') });
const speakSchema = z.object({ text: z.string().min(1).max(500), realTime: z.boolean().optional() });
const sipSchema = z.object({
  from: z.string().min(1),
  to: z.string().min(1),
  headers: z.array(z.object({ name: z.string(), value: z.string() })).optional(),
});

export interface RestDeps {
  profile: EmulatorProfile;
  ctx: EmulatorContext;
  keys: KeyStore;
  calls: Calls;
  defaultModel: string;
  createWebRtcCall(
    offer: string,
    session: Partial<RealtimeSessionCreateRequest> | undefined,
    principal: Principal,
    opts: { filterEvents: boolean },
  ): Promise<{ callId: string; sdp: string }>;
  simulateIncomingSipCall(o: { from: string; to: string }): Promise<{ callId: string; realtimeCallId?: string }>;
  simulateCallerSpeech(callId: string, text: string, o?: { realTime?: boolean }): Promise<void>;
  summary(): unknown;
  /** The caller presses `keys` on an active SIP call (a Realtime call, or a Live session on the live profile). */
  simulateDtmf(id: string, keys: string): void;
  /** The Live surface (live profile): serves a route under `/v1/live/` and says so. */
  live?(req: IncomingMessage, res: ServerResponse, url: URL, path: string): Promise<boolean>;
}

const refuseWith = (p: ParamProblem | undefined): void => {
  if (p) throw new HttpFailure(400, p.code, p.message, p.param);
};

export async function handleRest(d: RestDeps, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const method = req.method ?? 'GET';
  const path = routeOf(d.profile, url.pathname);
  if (path === undefined)
    throw new HttpFailure(404, 'not_found', `Unknown route ${method} ${url.pathname} (${d.profile} profile).`);
  if (path.startsWith('/_emulator/')) return handleDev(d, req, res, path, method);

  const failure = d.ctx.faults.restFailure(path);
  const delay = d.ctx.faults.delayMs;
  if (delay) await new Promise((r) => setTimeout(r, delay));
  if (failure) {
    const headers: Record<string, string> =
      failure.retryAfterSeconds !== undefined ? { 'retry-after': String(failure.retryAfterSeconds) } : {};
    const msg =
      failure.status === 429
        ? 'Rate limit reached (injected by the emulator).'
        : 'The server had an error (injected by the emulator).';
    throw new HttpFailure(
      failure.status,
      failure.status === 429 ? 'rate_limit_exceeded' : 'server_error',
      msg,
      null,
      headers,
    );
  }

  // Under `live` the path prefix names the service (OpenAI or Azure) whose Realtime rules apply.
  const service = serviceProfileOf(d.profile, url.pathname);
  const auth = (allowEphemeral: boolean): Principal => {
    const r = d.keys.authenticate(credentialOf(d.profile, req.headers, url, false), {
      allowEphemeral,
      profile: service,
    });
    if (!r.ok) throw new HttpFailure(r.status, r.code, r.message);
    return r.principal;
  };

  if (d.live && (await d.live(req, res, url, path))) return;

  if (method === 'POST' && path === '/v1/realtime/client_secrets') {
    auth(false);
    const json = readJson(await readBody(req));
    refuseWith(clientSecretProblem(json));
    const body = parseJsonBody({ json }, clientSecretSchema);
    if (body.session?.type === 'transcription')
      throw new HttpFailure(
        400,
        'unsupported',
        'The emulator supports realtime sessions only, not transcription sessions.',
        'session.type',
      );
    const session = (body.session ?? { type: 'realtime' }) as Partial<RealtimeSessionCreateRequest>;
    const ttl = body.expires_after?.seconds ?? 600;
    const normalized = normalizeSession(newId('sess'), session, session.model ?? d.defaultModel);
    const key = d.keys.mint({ ...session, type: 'realtime', model: normalized.model }, ttl);
    return sendJson(res, 200, {
      value: key.value,
      expires_at: key.expiresAt,
      session: { ...normalized, expires_at: key.expiresAt },
    });
  }

  if (method === 'POST' && path === '/v1/realtime/calls') {
    const principal = auth(true);
    const { offer, session } = await readOffer(req, service);
    // Azure keeps the session config off the browser's data channel when asked to.
    const filterEvents = service === 'azure-openai' && url.searchParams.get('webrtcfilter') === 'on';
    const { callId, sdp } = await d.createWebRtcCall(offer, session, principal, { filterEvents });
    res.writeHead(201, { 'content-type': 'application/sdp', location: `/v1/realtime/calls/${callId}` });
    res.end(sdp);
    return;
  }

  const m = /^\/v1\/realtime\/calls\/([^/]+)\/(accept|reject|refer|hangup)$/.exec(path);
  if (method === 'POST' && m) {
    auth(false);
    const [, id, action] = m as unknown as [string, string, string];
    const body = await readBody(req);
    try {
      if (action === 'accept') {
        const status = d.ctx.faults.acceptFailure();
        if (status)
          throw new HttpFailure(status, 'accept_failed', 'Accepting the call failed (injected by the emulator).');
        const json = readJson(body);
        refuseWith(acceptProblem(service, json));
        const cfg = parseJsonBody({ json }, sessionRequestSchema) as Partial<RealtimeSessionCreateRequest>;
        if (cfg.type !== 'realtime')
          throw new HttpFailure(400, 'invalid_value', "Invalid value for 'type': only 'realtime' calls.", 'type');
        d.calls.accept(id, cfg);
      } else if (action === 'reject') d.calls.reject(id, parseJsonBody(body, rejectSchema).status_code);
      else if (action === 'refer') d.calls.refer(id, parseJsonBody(body, referSchema).target_uri);
      else d.calls.hangup(id);
    } catch (e) {
      if (e instanceof CallError) throw new HttpFailure(e.status, e.code, e.message);
      throw e;
    }
    res.writeHead(200, { 'content-length': 0 });
    res.end();
    return;
  }

  if (method === 'POST' && path === '/v1/chat/completions') {
    auth(false);
    const body = parseJsonBody(await readBody(req), chatSchema) as unknown as ChatRequest;
    if ((body as { stream?: boolean }).stream)
      throw new HttpFailure(400, 'unsupported', 'The emulator text model does not stream.', 'stream');
    return sendJson(res, 200, completeChat(body));
  }

  throw new HttpFailure(404, 'not_found', `Unknown route ${method} ${url.pathname}.`);
}

/** SDP offer from `application/sdp`, or multipart `sdp` + `session` (JSON) fields. */
async function readOffer(
  req: IncomingMessage,
  profile: EmulatorProfile,
): Promise<{ offer: string; session?: Partial<RealtimeSessionCreateRequest> }> {
  const type = String(req.headers['content-type'] ?? '');
  const body = await readBody(req);
  if (type.startsWith('application/sdp')) return { offer: body.toString('utf8') };
  // Azure's WebRTC endpoint takes the raw SDP only; the multipart form (sdp + session) is OpenAI's.
  if (type.startsWith('multipart/form-data') && profile === 'openai') {
    const form = await new Request('http://local/', {
      method: 'POST',
      headers: { 'content-type': type },
      body: new Uint8Array(body),
    }).formData();
    const sdp = form.get('sdp');
    if (typeof sdp !== 'string' || !sdp)
      throw new HttpFailure(400, 'missing_required_parameter', "Missing required parameter: 'sdp'.", 'sdp');
    const raw = form.get('session');
    let session: Partial<RealtimeSessionCreateRequest> | undefined;
    if (typeof raw === 'string' && raw) {
      const json = readJson(Buffer.from(raw));
      refuseWith(unknownSessionField(json));
      session = parseJsonBody({ json }, sessionRequestSchema) as Partial<RealtimeSessionCreateRequest>;
    }
    return { offer: sdp, session };
  }
  throw new HttpFailure(
    400,
    'invalid_request',
    profile === 'openai'
      ? "Content-Type must be 'application/sdp' or 'multipart/form-data'."
      : "Content-Type must be 'application/sdp'.",
  );
}

/** Dev endpoints (no auth: the emulator listens on loopback). */
async function handleDev(
  d: RestDeps,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  method: string,
): Promise<void> {
  if (method === 'GET' && path === '/_emulator/health')
    return sendJson(res, 200, { ok: true, speech: d.ctx.speech.engine });
  if (method === 'GET' && path === '/_emulator/sessions') return sendJson(res, 200, d.summary());
  if (method === 'POST' && path === '/_emulator/sip/incoming') {
    const body = parseJsonBody(await readBody(req), sipSchema);
    return sendJson(res, 201, await d.simulateIncomingSipCall(body));
  }
  const speak = /^\/_emulator\/calls\/([^/]+)\/speak$/.exec(path);
  if (speak && method === 'POST') {
    const body = parseJsonBody(await readBody(req), speakSchema);
    let failed: unknown;
    const done = d
      .simulateCallerSpeech(speak[1]!, body.text, { realTime: body.realTime })
      .catch((e) => void (failed = e));
    // Real-time speech plays on after the answer; an unknown call still fails at once.
    await (body.realTime ? new Promise((r) => setImmediate(r)) : done);
    if (failed) throw failed;
    return sendJson(res, 202, { ok: true });
  }
  const keypad = /^\/_emulator\/calls\/([^/]+)\/dtmf$/.exec(path);
  if (keypad && method === 'POST') {
    const { keys } = parseJsonBody(await readBody(req), dtmfSchema);
    try {
      d.simulateDtmf(keypad[1]!, keys);
    } catch (e) {
      if (e instanceof CallError) throw new HttpFailure(e.status, e.code, e.message);
      throw e;
    }
    return sendJson(res, 202, { ok: true });
  }
  if (path === '/_emulator/faults' && method === 'POST') {
    d.ctx.faults.set(parseJsonBody(await readBody(req), faultSpecSchema));
    return sendJson(res, 200, { ok: true });
  }
  if (path === '/_emulator/faults' && method === 'DELETE') {
    d.ctx.faults.clear();
    return sendJson(res, 200, { ok: true });
  }
  throw new HttpFailure(404, 'not_found', `Unknown emulator route ${method} ${path}.`);
}
