import type { SessionConfig, SessionResource } from 'openai/resources/live/live';
import type { ParamProblem } from '../strict';

/** How a Live session was started; each takes its own subset of the startup configuration. */
export type LiveTransport = 'webrtc' | 'websocket' | 'sip';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Startup fields per transport, as the `openai` package types them: `MediaSessionConfig` (WebRTC create),
 * `SessionConfig` (`session.start` on a primary WebSocket), `SessionAcceptParams.Session` (SIP accept, which
 * also carries `type: "live"`). Only the primary WebSocket takes `audio.format`; only WebRTC takes `client`.
 */
const TOP: Record<LiveTransport, string[]> = {
  webrtc: ['model', 'audio', 'client', 'delegation', 'input', 'instructions', 'safety_identifier', 'store', 'triggers'],
  websocket: ['model', 'audio', 'delegation', 'input', 'instructions', 'safety_identifier', 'store', 'triggers'],
  sip: ['type', 'model', 'audio', 'delegation', 'input', 'instructions', 'safety_identifier', 'store', 'triggers'],
};
const AUDIO: Record<LiveTransport, string[]> = { webrtc: ['output'], websocket: ['format', 'output'], sip: ['output'] };
const DELEGATION: Record<string, string[]> = {
  client: ['type', 'acknowledgement_delay_ms'],
  responses: ['type', 'responses', 'acknowledgement_delay_ms'],
  decisions: ['type', 'decisions', 'acknowledgement_delay_ms'],
};
const RESPONSES = [
  'model',
  'instructions',
  'max_output_tokens',
  'parallel_tool_calls',
  'reasoning',
  'service_tier',
  'text',
  'tool_choice',
  'tools',
];
export const BUILT_IN_VOICES = [
  'alloy',
  'ash',
  'ballad',
  'beacon',
  'bossa',
  'cedar',
  'cinder',
  'coral',
  'delta',
  'echo',
  'gleam',
  'marin',
  'meridian',
  'quartz',
  'ripple',
  'sage',
  'shida',
  'shimmer',
  'stone',
  'tempo',
  'verse',
  'vesper',
  'willow',
];

const unknown = (param: string): ParamProblem => ({
  code: 'unknown_parameter',
  message: `Unknown parameter: '${param}'.`,
  param,
});
const invalid = (param: string, why: string): ParamProblem => ({
  code: 'invalid_value',
  message: `Invalid value for '${param}': ${why}.`,
  param,
});
const missing = (param: string): ParamProblem => ({
  code: 'missing_required_parameter',
  message: `Missing required parameter: '${param}'.`,
  param,
});

function unknownField(obj: Json, allowed: string[], prefix: string): ParamProblem | undefined {
  const extra = Object.keys(obj).find((k) => !allowed.includes(k));
  return extra ? unknown(`${prefix}.${extra}`) : undefined;
}

/**
 * Checks a Live startup configuration the way the service does before it starts anything (it refuses unknown
 * fields; the model is required for every transport). Returns the first problem, or undefined.
 */
export function startupProblem(
  session: unknown,
  transport: LiveTransport,
  prefix = 'session',
): ParamProblem | undefined {
  if (!isObject(session)) return session === undefined ? missing(prefix) : invalid(prefix, 'expected an object');
  const top = unknownField(session, TOP[transport], prefix);
  if (top) return top;
  if (transport === 'sip' && session.type !== 'live')
    return session.type === undefined ? missing(`${prefix}.type`) : invalid(`${prefix}.type`, "expected 'live'");
  if (typeof session.model !== 'string' || !session.model)
    return session.model === undefined ? missing(`${prefix}.model`) : invalid(`${prefix}.model`, 'expected a string');
  if (session.instructions !== undefined && session.instructions !== null && typeof session.instructions !== 'string')
    return invalid(`${prefix}.instructions`, 'expected a string');
  const audio = session.audio;
  if (audio !== undefined) {
    if (!isObject(audio)) return invalid(`${prefix}.audio`, 'expected an object');
    const a = unknownField(audio, AUDIO[transport], `${prefix}.audio`);
    if (a) return a;
    if (audio.output !== undefined) {
      if (!isObject(audio.output)) return invalid(`${prefix}.audio.output`, 'expected an object');
      const o = unknownField(audio.output, ['voice'], `${prefix}.audio.output`);
      if (o) return o;
      const v = audio.output.voice;
      if (v !== undefined && typeof v !== 'string' && !(isObject(v) && typeof v.id === 'string'))
        return invalid(`${prefix}.audio.output.voice`, 'expected a voice name or { id }');
    }
    if (audio.format !== undefined) {
      const f = audio.format as Json;
      const rateOk =
        f?.type === 'audio/pcm'
          ? f.rate === 16000 || f.rate === 24000
          : f?.type === 'audio/pcmu' || f?.type === 'audio/pcma';
      if (!isObject(f) || !rateOk)
        return invalid(`${prefix}.audio.format`, 'expected audio/pcm at 16000 or 24000 Hz, audio/pcmu or audio/pcma');
    }
  }
  const d = delegationProblem(session.delegation, `${prefix}.delegation`);
  if (d) return d;
  if (session.client !== undefined) return clientProblem(session.client, `${prefix}.client`);
  return undefined;
}

function delegationProblem(d: unknown, prefix: string, update = false): ParamProblem | undefined {
  if (d === undefined || d === null) return undefined;
  if (!isObject(d)) return invalid(prefix, 'expected an object');
  const fields = DELEGATION[String(d.type)];
  if (!fields) return invalid(`${prefix}.type`, "expected 'client', 'responses' or 'decisions'");
  const f = unknownField(d, fields, prefix);
  if (f) return f;
  const delay = d.acknowledgement_delay_ms;
  if (delay !== undefined && (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0))
    return invalid(`${prefix}.acknowledgement_delay_ms`, 'expected a non-negative integer');
  if (d.type === 'responses') {
    if (!isObject(d.responses)) return update && d.responses === undefined ? undefined : missing(`${prefix}.responses`);
    const r = unknownField(d.responses, RESPONSES, `${prefix}.responses`);
    if (r) return r;
    if (!update && typeof d.responses.model !== 'string') return missing(`${prefix}.responses.model`);
    if (d.responses.tools !== undefined && !Array.isArray(d.responses.tools))
      return invalid(`${prefix}.responses.tools`, 'expected an array');
  }
  if (d.type === 'decisions' && !update && !isObject(d.decisions)) return missing(`${prefix}.decisions`);
  return undefined;
}

function clientProblem(c: unknown, prefix: string): ParamProblem | undefined {
  if (!isObject(c)) return invalid(prefix, 'expected an object');
  const f = unknownField(c, ['data_channel'], prefix);
  if (f) return f;
  if (!isObject(c.data_channel)) return missing(`${prefix}.data_channel`);
  const dc = c.data_channel;
  const g = unknownField(dc, ['allowed_client_events', 'allowed_server_events'], `${prefix}.data_channel`);
  if (g) return g;
  const ce = dc.allowed_client_events;
  if (ce !== undefined && ce !== 'all' && !(Array.isArray(ce) && ce.every((x) => typeof x === 'string')))
    return invalid(`${prefix}.data_channel.allowed_client_events`, "expected 'all' or an array of event types");
  const se = dc.allowed_server_events;
  if (se !== undefined && se !== 'all') {
    if (!Array.isArray(se))
      return invalid(`${prefix}.data_channel.allowed_server_events`, "expected 'all' or an array");
    for (const [i, s] of se.entries()) {
      const p = `${prefix}.data_channel.allowed_server_events[${i}]`;
      if (!isObject(s) || typeof s.type !== 'string') return invalid(p, 'expected { type, response_event? }');
      if (s.type === 'response.event' && typeof s.response_event !== 'string') return missing(`${p}.response_event`);
      if (s.type !== 'response.event' && s.response_event !== undefined) return unknown(`${p}.response_event`);
    }
  }
  return undefined;
}

/**
 * A `session.update` may change only the delegation settings (of the same type) and the triggers; model,
 * instructions, audio and startup input are immutable.
 */
export function updateProblem(update: unknown, current: SessionResource): ParamProblem | undefined {
  if (!isObject(update)) return update === undefined ? missing('session') : invalid('session', 'expected an object');
  const f = unknownField(update, ['delegation', 'triggers'], 'session');
  if (f) return f;
  const d = update.delegation;
  if (d === undefined) return undefined;
  const currentType = current.delegation?.type ?? 'client';
  const wanted = d === null ? 'client' : (d as Json).type;
  if (wanted !== currentType)
    return invalid('session.delegation.type', `the delegation type cannot change from '${currentType}'`);
  return delegationProblem(d, 'session.delegation', true);
}

/** The session as `session.started` / `session.updated` / `session.closed` report it, defaults filled in. */
export function resourceOf(id: string, input: Json, transport: LiveTransport, expiresAt: number): SessionResource {
  const { type: _type, ...cfg } = input as Json & { type?: string };
  const audio = (cfg.audio ?? {}) as Json;
  const output = { voice: 'marin', ...((audio.output as Json) ?? {}) };
  const resource: Json = {
    id,
    expires_at: expiresAt,
    ...cfg,
    instructions: cfg.instructions ?? null,
    audio: {
      output,
      ...(transport === 'websocket' ? { format: audio.format ?? { type: 'audio/pcm', rate: 24000 } } : {}),
    },
    delegation: cfg.delegation ?? { type: 'client' },
    status: 'active',
    input: cfg.input ?? [],
  };
  return resource as unknown as SessionResource;
}

/** A session update applied: delegation settings merge (same type), triggers replace. */
export function applyUpdate(current: SessionResource, update: Json): SessionResource {
  const next = { ...current } as Json;
  if (update.triggers !== undefined) next.triggers = update.triggers;
  const d = update.delegation as Json | null | undefined;
  if (d !== undefined) {
    const cur = (current.delegation ?? { type: 'client' }) as Json;
    const merged: Json = { ...cur, ...(d ?? {}) };
    if (d && isObject(d.responses)) merged.responses = { ...(cur.responses as Json), ...d.responses };
    if (d && isObject(d.decisions)) merged.decisions = { ...(cur.decisions as Json), ...d.decisions };
    next.delegation = merged;
  }
  return next as unknown as SessionResource;
}

export type StartupConfig = SessionConfig & { type?: 'live'; client?: unknown };
