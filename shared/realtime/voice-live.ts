import {
  toServerEvent,
  type DeltaType,
  type RealtimeClientEvent,
  type ServerEvent,
  type ServerEventType,
} from './events';
import type { RealtimeProtocol } from './protocol';

/**
 * Voice Live (AI Foundry, api-version 2025-10-01 and later) keeps the beta Realtime shape: a flat `session`
 * (`modalities`, `voice`, `input_audio_format`, `turn_detection`, …), `response.text.*` / `response.audio.*` /
 * `response.audio_transcript.*` events, `conversation.item.created`, and content parts `text` / `audio`. This maps
 * it onto GA both ways. Sources: Microsoft Learn "How to use the Voice live API" and the VoiceLive 2025-10-01
 * REST spec (`RequestSession`, `ResponseSession`, `ClientEventType`, `ServerEventType`), as the emulator's
 * README lists them.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const obj = (v: unknown): Obj | undefined => (isObj(v) ? v : undefined);
/** Copies the keys that are set (undefined stays out: an absent field and `undefined` mean the same here). */
const defined = (o: Obj): Obj => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** Server event types that differ, Voice Live → GA. */
const SERVER_TYPES: Record<string, ServerEventType> = {
  'conversation.item.created': 'conversation.item.added',
  'response.text.delta': 'response.output_text.delta',
  'response.text.done': 'response.output_text.done',
  'response.audio.delta': 'response.output_audio.delta',
  'response.audio.done': 'response.output_audio.done',
  'response.audio_transcript.delta': 'response.output_audio_transcript.delta',
  'response.audio_transcript.done': 'response.output_audio_transcript.done',
};

const FORMAT_OUT: Record<string, string> = {
  'audio/pcm': 'pcm16',
  'audio/pcmu': 'g711_ulaw',
  'audio/pcma': 'g711_alaw',
};
const FORMAT_IN: Record<string, string> = { pcm16: 'audio/pcm', g711_ulaw: 'audio/pcmu', g711_alaw: 'audio/pcma' };

/** GA `audio: "audio"` output means spoken answers with their transcript: the beta pair `text` + `audio`. */
const modalitiesOut = (m: unknown) =>
  Array.isArray(m) ? (m.includes('audio') ? ['text', 'audio'] : ['text']) : undefined;
const modalitiesIn = (m: unknown) => (Array.isArray(m) ? (m.includes('audio') ? ['audio'] : ['text']) : undefined);

function voiceOut(v: unknown): unknown {
  if (typeof v === 'string') return v;
  const id = obj(v)?.id;
  return typeof id === 'string' ? { type: 'azure-custom', name: id } : undefined;
}
const voiceIn = (v: unknown): unknown => (typeof v === 'string' ? v : (obj(v)?.name ?? undefined));

function turnDetectionOut(td: unknown): unknown {
  if (td === null) return null;
  const t = obj(td);
  if (!t) return undefined;
  return { ...t, type: t.type === 'semantic_vad' ? 'azure_semantic_vad' : t.type };
}
function turnDetectionIn(td: unknown): unknown {
  if (td === null) return null;
  const t = obj(td);
  if (!t) return undefined;
  return {
    ...t,
    type: typeof t.type === 'string' && t.type.startsWith('azure_semantic_vad') ? 'semantic_vad' : t.type,
  };
}

/** A GA session (create request or update) as Voice Live's flat session. */
export function sessionToVoiceLive(s: Obj): Obj {
  const input = obj(obj(s.audio)?.input);
  const output = obj(obj(s.audio)?.output);
  const inFormat = obj(input?.format);
  const outFormat = obj(output?.format);
  const tools = Array.isArray(s.tools) ? s.tools.filter((t) => obj(t)?.type === 'function') : undefined;
  return defined({
    model: s.model,
    instructions: s.instructions,
    modalities: modalitiesOut(s.output_modalities),
    voice: voiceOut(output?.voice),
    input_audio_format: typeof inFormat?.type === 'string' ? FORMAT_OUT[inFormat.type] : undefined,
    input_audio_sampling_rate: inFormat?.type === 'audio/pcm' ? inFormat.rate : undefined,
    output_audio_format: typeof outFormat?.type === 'string' ? FORMAT_OUT[outFormat.type] : undefined,
    turn_detection: input && 'turn_detection' in input ? turnDetectionOut(input.turn_detection) : undefined,
    input_audio_transcription: input?.transcription,
    input_audio_noise_reduction: input?.noise_reduction,
    tools,
    tool_choice: s.tool_choice,
    max_response_output_tokens: s.max_output_tokens,
  });
}

/** Voice Live's flat session (session.created / session.updated) as a GA realtime session. */
export function sessionFromVoiceLive(s: Obj): Obj {
  const format = (f: unknown, rate?: unknown) =>
    typeof f === 'string' && FORMAT_IN[f]
      ? defined({ type: FORMAT_IN[f], rate: f === 'pcm16' ? (rate ?? 24000) : undefined })
      : undefined;
  const input = defined({
    format: format(s.input_audio_format, s.input_audio_sampling_rate),
    turn_detection: 'turn_detection' in s ? turnDetectionIn(s.turn_detection) : undefined,
    transcription: s.input_audio_transcription ?? undefined,
    noise_reduction: s.input_audio_noise_reduction ?? undefined,
  });
  const output = defined({ format: format(s.output_audio_format), voice: voiceIn(s.voice) });
  return defined({
    type: 'realtime',
    id: s.id,
    model: s.model,
    instructions: s.instructions,
    output_modalities: modalitiesIn(s.modalities),
    audio: { input, output },
    tools: s.tools,
    tool_choice: s.tool_choice,
    max_output_tokens: s.max_response_output_tokens,
  });
}

const PART_OUT: Record<string, string> = { output_text: 'text', output_audio: 'audio' };
const PART_IN: Record<string, string> = { text: 'output_text', audio: 'output_audio' };

function mapItem(item: unknown, parts: Record<string, string>): unknown {
  const i = obj(item);
  if (!i || i.type !== 'message' || !Array.isArray(i.content)) return item;
  const content = i.content.map((c) => {
    const part = obj(c);
    const to = typeof part?.type === 'string' ? parts[part.type] : undefined;
    return part && to ? { ...part, type: to } : c;
  });
  return { ...i, content };
}

function responseParamsOut(r: Obj): Obj {
  const { output_modalities, audio, input, ...rest } = r;
  return defined({
    ...rest,
    modalities: modalitiesOut(output_modalities),
    voice: voiceOut(obj(obj(audio)?.output)?.voice),
    input: Array.isArray(input) ? input.map((i) => mapItem(i, PART_OUT)) : undefined,
  });
}

function responseIn(r: unknown): unknown {
  const resp = obj(r);
  if (!resp) return r;
  const { modalities, voice, output, ...rest } = resp;
  return defined({
    ...rest,
    output_modalities: modalitiesIn(modalities),
    audio: voice !== undefined ? { output: { voice: voiceIn(voice) } } : undefined,
    output: Array.isArray(output) ? output.map((i) => mapItem(i, PART_IN)) : output,
  });
}

function encode(event: RealtimeClientEvent): Obj | undefined {
  const e = event as unknown as Obj;
  switch (event.type) {
    case 'session.update':
      return { ...e, session: sessionToVoiceLive(event.session as unknown as Obj) };
    case 'response.create':
      return event.response ? { ...e, response: responseParamsOut(event.response as unknown as Obj) } : e;
    case 'conversation.item.create':
      return { ...e, item: mapItem(event.item, PART_OUT) };
    case 'output_audio_buffer.clear':
      return undefined; // WebRTC only; Voice Live here is a WebSocket
    default:
      return e;
  }
}

function decode(wire: unknown): ServerEvent | undefined {
  const e = obj(wire);
  if (!e) return undefined;
  const type = typeof e.type === 'string' ? (SERVER_TYPES[e.type] ?? e.type) : e.type;
  const out: Obj = { ...e, type };
  if ((type === 'session.created' || type === 'session.updated') && isObj(e.session))
    out.session = sessionFromVoiceLive(e.session);
  if (type === 'response.created' || type === 'response.done') out.response = responseIn(e.response);
  if ('item' in e && isObj(e.item)) out.item = mapItem(e.item, PART_IN);
  return toServerEvent(out);
}

/** One event per frame: typed so callers of this protocol alone get a single event. */
export const voiceLiveProtocol: Omit<RealtimeProtocol, 'decode'> & { decode(wire: unknown): ServerEvent | undefined } =
  {
    name: 'voice-live',
    encode,
    decode,
    deltas: new Map<string, DeltaType>([
      ['response.audio.delta', 'response.output_audio.delta'],
      ['response.audio_transcript.delta', 'response.output_audio_transcript.delta'],
      ['response.text.delta', 'response.output_text.delta'],
      ['response.function_call_arguments.delta', 'response.function_call_arguments.delta'],
      ['conversation.item.input_audio_transcription.delta', 'conversation.item.input_audio_transcription.delta'],
    ]),
  };
