import type { EmulatorProfile } from './profile';

/** A request the service refuses before it does anything: the OpenAI error body's code, message and param. */
export interface ParamProblem {
  code: 'unknown_parameter' | 'missing_required_parameter' | 'invalid_value';
  message: string;
  param: string;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Field names of the GA session object, level by level, as the `openai` package types them
 * (`RealtimeSessionCreateRequest`, `RealtimeAudioConfigInput/Output`, `RealtimeAudioInputTurnDetection`).
 * Deeper objects (tools, transcription, formats) are left open: the service grows them often.
 */
const SESSION_FIELDS = [
  'type',
  'model',
  'instructions',
  'output_modalities',
  'tools',
  'tool_choice',
  'max_output_tokens',
  'audio',
  'include',
  'prompt',
  'tracing',
  'truncation',
  'parallel_tool_calls',
  'reasoning',
];
const AUDIO_FIELDS = ['input', 'output'];
const INPUT_FIELDS = ['format', 'noise_reduction', 'transcription', 'turn_detection'];
const OUTPUT_FIELDS = ['format', 'voice', 'speed'];
const TURN_DETECTION_FIELDS: Record<string, string[]> = {
  server_vad: [
    'type',
    'threshold',
    'prefix_padding_ms',
    'silence_duration_ms',
    'idle_timeout_ms',
    'create_response',
    'interrupt_response',
  ],
  semantic_vad: ['type', 'eagerness', 'create_response', 'interrupt_response'],
};

/** Turn-detection tuning the Calls API refuses when it accepts a SIP call (tuning applies after attach). */
export const SIP_REFUSED_TURN_DETECTION_FIELDS = ['threshold', 'prefix_padding_ms', 'silence_duration_ms'] as const;

const unknown = (param: string): ParamProblem => ({
  code: 'unknown_parameter',
  message: `Unknown parameter: '${param}'.`,
  param,
});
const missing = (param: string): ParamProblem => ({
  code: 'missing_required_parameter',
  message: `Missing required parameter: '${param}'.`,
  param,
});

function firstUnknown(obj: Json, allowed: string[], prefix: string): ParamProblem | undefined {
  const extra = Object.keys(obj).find((k) => !allowed.includes(k));
  return extra === undefined ? undefined : unknown(`${prefix}.${extra}`);
}

/** The first field of a GA session object the service does not know, named by its full path (`session.…`). */
export function unknownSessionField(session: unknown, prefix = 'session'): ParamProblem | undefined {
  if (!isObject(session)) return undefined;
  const top = firstUnknown(session, SESSION_FIELDS, prefix);
  if (top) return top;
  const audio = session.audio;
  if (!isObject(audio)) return undefined;
  const a = firstUnknown(audio, AUDIO_FIELDS, `${prefix}.audio`);
  if (a) return a;
  if (isObject(audio.output)) {
    const o = firstUnknown(audio.output, OUTPUT_FIELDS, `${prefix}.audio.output`);
    if (o) return o;
  }
  const input = audio.input;
  if (!isObject(input)) return undefined;
  const i = firstUnknown(input, INPUT_FIELDS, `${prefix}.audio.input`);
  if (i) return i;
  const td = input.turn_detection;
  if (isObject(td) && typeof td.type === 'string' && TURN_DETECTION_FIELDS[td.type])
    return firstUnknown(td, TURN_DETECTION_FIELDS[td.type]!, `${prefix}.audio.input.turn_detection`);
  return undefined;
}

/** GA allows one output modality at a time (`["audio"]` brings a transcript with it). */
export function modalityProblem(modalities: unknown, param: string): ParamProblem | undefined {
  if (Array.isArray(modalities) && modalities.length > 1)
    return {
      code: 'invalid_value',
      message: `Invalid value for '${param}': it is not possible to request both text and audio at the same time.`,
      param,
    };
  return undefined;
}

/**
 * What `POST /realtime/calls/{id}/accept` refuses: unknown fields, the SIP-unsupported turn-detection tuning,
 * and (Azure) a body without `type`, `model` and `instructions`.
 */
export function acceptProblem(profile: EmulatorProfile, body: unknown): ParamProblem | undefined {
  if (!isObject(body)) return missing('type');
  const required = profile === 'azure-openai' ? ['type', 'model', 'instructions'] : ['type'];
  for (const f of required) if (body[f] === undefined || body[f] === null) return missing(f);
  const field = unknownSessionField(body);
  if (field) return field;
  const td = isObject(body.audio) && isObject(body.audio.input) ? body.audio.input.turn_detection : undefined;
  if (isObject(td))
    for (const f of SIP_REFUSED_TURN_DETECTION_FIELDS)
      if (td[f] !== undefined) return unknown(`session.audio.input.turn_detection.${f}`);
  return modalityProblem(body.output_modalities, 'session.output_modalities');
}

/** What `POST /realtime/client_secrets` refuses beyond value ranges: unknown fields and a session without `type`. */
export function clientSecretProblem(body: unknown): ParamProblem | undefined {
  if (!isObject(body)) return undefined;
  const extra = Object.keys(body).find((k) => k !== 'expires_after' && k !== 'session');
  if (extra !== undefined) return unknown(extra);
  if (isObject(body.expires_after)) {
    const e = firstUnknown(body.expires_after, ['anchor', 'seconds'], 'expires_after');
    if (e) return e;
  }
  if (!isObject(body.session)) return undefined;
  if (body.session.type === undefined) return missing('session.type');
  if (body.session.type !== 'realtime') return undefined;
  return (
    unknownSessionField(body.session) ?? modalityProblem(body.session.output_modalities, 'session.output_modalities')
  );
}
