import type { RealtimeSessionCreateRequest } from 'openai/resources/realtime/realtime';
import type { VadSettings } from './vad';

/** The session object as the service reports it: the request plus id/object/expiry, every default filled in. */
export type SessionObject = RealtimeSessionCreateRequest & {
  id: string;
  object: 'realtime.session';
  expires_at: number;
};

type Json = Record<string, unknown>;

const DEFAULT_TURN_DETECTION = {
  type: 'server_vad',
  threshold: 0.5,
  prefix_padding_ms: 300,
  silence_duration_ms: 500,
  idle_timeout_ms: null,
  create_response: true,
  interrupt_response: true,
};

/** Fills the GA defaults in, the way `session.created` shows them. */
export function normalizeSession(
  id: string,
  input: Partial<RealtimeSessionCreateRequest> | undefined,
  model: string,
  ttlSeconds = 3600,
): SessionObject {
  const base: Json = {
    type: 'realtime',
    object: 'realtime.session',
    id,
    model,
    output_modalities: ['audio'],
    instructions: 'You are a helpful, friendly assistant.',
    tools: [],
    tool_choice: 'auto',
    max_output_tokens: 'inf',
    tracing: null,
    truncation: 'auto',
    prompt: null,
    expires_at: Math.floor(Date.now() / 1000) + ttlSeconds,
    include: null,
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: 24000 },
        transcription: null,
        noise_reduction: null,
        turn_detection: DEFAULT_TURN_DETECTION,
      },
      output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'alloy', speed: 1 },
    },
  };
  return mergeSession(base as unknown as SessionObject, input ?? {});
}

/** `session.update` semantics: top-level fields replace, `audio.input` / `audio.output` merge field by field. */
export function mergeSession(current: SessionObject, update: Partial<RealtimeSessionCreateRequest>): SessionObject {
  const { audio, ...rest } = update as Json & { audio?: Json };
  const next = { ...current, ...stripUndefined(rest) } as unknown as Json;
  next.id = current.id;
  next.object = 'realtime.session';
  next.expires_at = current.expires_at;
  if (audio) {
    const cur = (current.audio ?? {}) as Json;
    const input = { ...((cur.input as Json) ?? {}), ...stripUndefined((audio.input as Json) ?? {}) };
    const td = (audio.input as Json | undefined)?.turn_detection;
    if (td && typeof td === 'object') {
      const defaults =
        (td as Json).type === 'semantic_vad'
          ? { type: 'semantic_vad', eagerness: 'auto', create_response: true, interrupt_response: true }
          : DEFAULT_TURN_DETECTION;
      input.turn_detection = { ...defaults, ...(td as Json) };
    }
    next.audio = {
      input,
      output: { ...((cur.output as Json) ?? {}), ...stripUndefined((audio.output as Json) ?? {}) },
    };
  }
  return next as unknown as SessionObject;
}

function stripUndefined(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

export function voiceOf(s: SessionObject): string {
  const v = s.audio?.output?.voice;
  return typeof v === 'string' ? v : (v?.id ?? 'alloy');
}

export function inputFormatOf(s: SessionObject): 'pcm' | 'pcmu' | 'pcma' {
  const t = s.audio?.input?.format?.type;
  return t === 'audio/pcmu' ? 'pcmu' : t === 'audio/pcma' ? 'pcma' : 'pcm';
}

/** Server or semantic VAD settings, or undefined when turn detection is off. */
export function vadOf(
  s: SessionObject,
): (VadSettings & { createResponse: boolean; interruptResponse: boolean }) | undefined {
  const td = s.audio?.input?.turn_detection;
  if (!td) return undefined;
  if (td.type === 'semantic_vad') {
    const silence = { low: 800, medium: 500, high: 250, auto: 500 }[td.eagerness ?? 'auto'];
    return {
      threshold: 0.5,
      prefixPaddingMs: 300,
      silenceDurationMs: silence,
      createResponse: td.create_response ?? true,
      interruptResponse: td.interrupt_response ?? true,
    };
  }
  return {
    threshold: td.threshold ?? 0.5,
    prefixPaddingMs: td.prefix_padding_ms ?? 300,
    silenceDurationMs: td.silence_duration_ms ?? 500,
    createResponse: td.create_response ?? true,
    interruptResponse: td.interrupt_response ?? true,
  };
}

/** Function tool names a session declares (MCP tools the service would run itself are not ours to call). */
export function functionToolNames(tools: unknown): string[] {
  if (!Array.isArray(tools)) return [];
  return tools
    .filter(
      (t): t is { type?: string; name: string } =>
        !!t && typeof t === 'object' && typeof (t as { name?: unknown }).name === 'string',
    )
    .filter((t) => t.type === undefined || t.type === 'function')
    .map((t) => t.name);
}
