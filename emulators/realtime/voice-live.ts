import { base64ToPcm, pcmToBase64, RATE, resample } from './audio';
import { errorEvent } from './protocol';

/**
 * Voice Live's beta-shaped protocol over the emulator's GA session (README.md, "Voice Live profile"): client
 * events are rewritten into GA before the session sees them, server events back into Voice Live's names
 * and flat session shape. One codec per connection; it keeps what GA has no place for (Azure voices,
 * sampling rate, semantic VAD options…) so the session objects it reports echo them back.
 */
type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);

const OPENAI_VOICES = ['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse'];
const FORMAT_TO_GA: Record<string, string> = { pcm16: 'audio/pcm', g711_ulaw: 'audio/pcmu', g711_alaw: 'audio/pcma' };
const FORMAT_FROM_GA: Record<string, string> = {
  'audio/pcm': 'pcm16',
  'audio/pcmu': 'g711_ulaw',
  'audio/pcma': 'g711_alaw',
};
const VL_TURN_DETECTION = [
  'server_vad',
  'azure_semantic_vad',
  'azure_semantic_vad_en',
  'azure_semantic_vad_multilingual',
];
const VAD_FIELDS_GA = [
  'threshold',
  'prefix_padding_ms',
  'silence_duration_ms',
  'create_response',
  'interrupt_response',
];
/** Accepted and echoed back, with no effect in the emulator (no avatar, no noise suppression). */
const ECHOED_ONLY = [
  'input_audio_noise_reduction',
  'input_audio_echo_cancellation',
  'avatar',
  'animation',
  'output_audio_timestamp_types',
  'temperature',
];
const NOT_EMULATED = [
  'input_audio.turn.start',
  'input_audio.turn.append',
  'input_audio.turn.end',
  'input_audio.turn.cancel',
  'input_audio.clear',
  'session.avatar.connect',
];
const CLIENT_EVENTS = [
  'session.update',
  'input_audio_buffer.append',
  'input_audio_buffer.commit',
  'input_audio_buffer.clear',
  'conversation.item.create',
  'conversation.item.retrieve',
  'conversation.item.truncate',
  'conversation.item.delete',
  'response.create',
  'response.cancel',
];
const RENAMED: Record<string, string> = {
  'conversation.item.added': 'conversation.item.created',
  'response.output_text.delta': 'response.text.delta',
  'response.output_text.done': 'response.text.done',
  'response.output_audio.delta': 'response.audio.delta',
  'response.output_audio.done': 'response.audio.done',
  'response.output_audio_transcript.delta': 'response.audio_transcript.delta',
  'response.output_audio_transcript.done': 'response.audio_transcript.done',
};
/** Voice Live's server events (ServerEventType, 2025-10-01) the emulator can produce. */
const SERVER_EVENTS = new Set([
  'error',
  'session.created',
  'session.updated',
  'conversation.item.created',
  'conversation.item.retrieved',
  'conversation.item.truncated',
  'conversation.item.deleted',
  'conversation.item.input_audio_transcription.delta',
  'conversation.item.input_audio_transcription.completed',
  'conversation.item.input_audio_transcription.failed',
  'input_audio_buffer.committed',
  'input_audio_buffer.cleared',
  'input_audio_buffer.speech_started',
  'input_audio_buffer.speech_stopped',
  'response.created',
  'response.done',
  'response.output_item.added',
  'response.output_item.done',
  'response.content_part.added',
  'response.content_part.done',
  'response.text.delta',
  'response.text.done',
  'response.audio_transcript.delta',
  'response.audio_transcript.done',
  'response.audio.delta',
  'response.audio.done',
  'response.function_call_arguments.delta',
  'response.function_call_arguments.done',
]);

export type ClientRewrite = { forward: string } | { reply: string } | { drop: true };

export class VoiceLiveCodec {
  private readonly extras: Json = {};
  private instructions = '';

  /** A Voice Live client event as the GA session takes it, or the error to answer it with. */
  clientToGa(raw: string): ClientRewrite {
    let e: Json;
    try {
      const parsed: unknown = JSON.parse(raw);
      if (!isObject(parsed) || typeof parsed.type !== 'string') return { forward: raw };
      e = parsed;
    } catch {
      return { forward: raw };
    }
    const type = e.type as string;
    const fail = (code: string, message: string) =>
      ({
        reply: JSON.stringify(
          errorEvent(code, message, {
            param: 'type',
            clientEventId: typeof e.event_id === 'string' ? e.event_id : null,
          }),
        ),
      }) as const;
    if (NOT_EMULATED.includes(type))
      return fail('unsupported', `'${type}' is not emulated (no avatar or audio turns).`);
    if (!CLIENT_EVENTS.includes(type))
      return fail('invalid_value', `Invalid value: '${type.slice(0, 100)}'. Not a Voice Live client event.`);
    if (type === 'session.update' && isObject(e.session))
      return { forward: JSON.stringify({ ...e, session: this.sessionToGa(e.session) }) };
    if (type === 'response.create') return { forward: JSON.stringify(this.responseCreateToGa(e)) };
    if (type === 'conversation.item.create' && isObject(e.item))
      return { forward: JSON.stringify({ ...e, item: itemToGa(e.item) }) };
    if (type === 'input_audio_buffer.append' && typeof e.audio === 'string') {
      const rate = Number(this.extras.input_audio_sampling_rate ?? RATE);
      const pcm16 = (this.extras.input_audio_format ?? 'pcm16') === 'pcm16';
      if (pcm16 && rate !== RATE && [8000, 16000].includes(rate))
        return { forward: JSON.stringify({ ...e, audio: pcmToBase64(resample(base64ToPcm(e.audio), rate, RATE)) }) };
    }
    return { forward: raw };
  }

  /** A GA server event as Voice Live sends it, or undefined when Voice Live has no such event. */
  serverFromGa(json: string): string | undefined {
    const e = JSON.parse(json) as Json;
    const type = RENAMED[e.type as string] ?? (e.type as string);
    if (!SERVER_EVENTS.has(type)) return undefined;
    const out: Json = { ...e, type };
    if (isObject(e.session)) {
      if (typeof e.session.instructions === 'string') this.instructions = e.session.instructions;
      out.session = this.flatSession(e.session);
    }
    if (isObject(e.response)) out.response = this.flatResponse(e.response);
    if (isObject(e.item)) out.item = itemFromGa(e.item);
    if (isObject(e.part)) out.part = partFromGa(e.part);
    return JSON.stringify(out);
  }

  private sessionToGa(s: Json): Json {
    const ga: Json = { type: 'realtime' };
    for (const f of ['instructions', 'tools', 'tool_choice']) if (s[f] !== undefined) ga[f] = s[f];
    if (s.max_response_output_tokens !== undefined) ga.max_output_tokens = s.max_response_output_tokens;
    if (Array.isArray(s.modalities)) ga.output_modalities = s.modalities.includes('audio') ? ['audio'] : ['text'];
    for (const f of [...ECHOED_ONLY, 'modalities', 'input_audio_sampling_rate', 'input_audio_format', 'voice'])
      if (s[f] !== undefined) this.extras[f] = s[f];
    const input: Json = {};
    const output: Json = {};
    if (typeof s.input_audio_format === 'string' && FORMAT_TO_GA[s.input_audio_format])
      input.format = {
        type: FORMAT_TO_GA[s.input_audio_format],
        ...(s.input_audio_format === 'pcm16' ? { rate: RATE } : {}),
      };
    if (typeof s.output_audio_format === 'string' && FORMAT_TO_GA[s.output_audio_format])
      output.format = {
        type: FORMAT_TO_GA[s.output_audio_format],
        ...(s.output_audio_format === 'pcm16' ? { rate: RATE } : {}),
      };
    if (s.input_audio_transcription !== undefined) {
      const t = s.input_audio_transcription;
      input.transcription = isObject(t) ? { model: t.model, ...(t.language ? { language: t.language } : {}) } : null;
    }
    if (s.turn_detection === null) input.turn_detection = null;
    else if (isObject(s.turn_detection) && VL_TURN_DETECTION.includes(String(s.turn_detection.type))) {
      this.extras.turn_detection = s.turn_detection;
      // Azure's semantic VAD variants run as the energy VAD; their extra options are echoed, not applied.
      const td: Json = { type: 'server_vad' };
      for (const f of VAD_FIELDS_GA) if (s.turn_detection[f] !== undefined) td[f] = s.turn_detection[f];
      input.turn_detection = td;
    }
    if (s.voice !== undefined) output.voice = gaVoice(s.voice);
    const audio: Json = {};
    if (Object.keys(input).length) audio.input = input;
    if (Object.keys(output).length) audio.output = output;
    if (Object.keys(audio).length) ga.audio = audio;
    return ga;
  }

  private responseCreateToGa(e: Json): Json {
    const r = isObject(e.response) ? e.response : {};
    const ga: Json = {};
    for (const f of ['instructions', 'tools', 'tool_choice', 'max_output_tokens', 'metadata', 'conversation'])
      if (r[f] !== undefined) ga[f] = r[f];
    if (Array.isArray(r.modalities)) ga.output_modalities = r.modalities.includes('audio') ? ['audio'] : ['text'];
    if (r.voice !== undefined) ga.audio = { output: { voice: gaVoice(r.voice) } };
    if (typeof e.additional_instructions === 'string' && e.additional_instructions)
      ga.instructions = `${typeof ga.instructions === 'string' ? ga.instructions : this.instructions}\n${e.additional_instructions}`;
    const { additional_instructions: _ignored, ...rest } = e;
    return { ...rest, ...(Object.keys(ga).length || e.response ? { response: ga } : {}) };
  }

  private flatSession(ga: Json): Json {
    const audio = isObject(ga.audio) ? ga.audio : {};
    const input = isObject(audio.input) ? audio.input : {};
    const output = isObject(audio.output) ? audio.output : {};
    const td = input.turn_detection;
    const modalities =
      Array.isArray(ga.output_modalities) && ga.output_modalities.includes('audio') ? ['text', 'audio'] : ['text'];
    return {
      id: ga.id,
      model: ga.model,
      modalities: this.extras.modalities ?? modalities,
      instructions: ga.instructions,
      voice: this.extras.voice ?? output.voice,
      input_audio_format: formatFromGa(input.format),
      output_audio_format: formatFromGa(output.format),
      input_audio_sampling_rate: this.extras.input_audio_sampling_rate ?? RATE,
      turn_detection:
        td === null || !isObject(td)
          ? null
          : (this.extras.turn_detection ?? Object.fromEntries(['type', ...VAD_FIELDS_GA].map((f) => [f, td[f]]))),
      input_audio_transcription: isObject(input.transcription) ? input.transcription : null,
      tools: ga.tools,
      tool_choice: ga.tool_choice,
      max_response_output_tokens: ga.max_output_tokens,
      temperature: this.extras.temperature ?? 0.8,
      ...Object.fromEntries(ECHOED_ONLY.filter((f) => f !== 'temperature').map((f) => [f, this.extras[f] ?? null])),
    };
  }

  private flatResponse(ga: Json): Json {
    const { output_modalities, audio, output, ...rest } = ga;
    const voice = isObject(audio) && isObject(audio.output) ? audio.output.voice : undefined;
    return {
      ...rest,
      modalities:
        Array.isArray(output_modalities) && output_modalities.includes('audio') ? ['text', 'audio'] : ['text'],
      voice: this.extras.voice ?? voice,
      output: Array.isArray(output) ? output.map((it) => (isObject(it) ? itemFromGa(it) : it)) : output,
    };
  }
}

function gaVoice(v: unknown): string {
  if (typeof v === 'string') return OPENAI_VOICES.includes(v) ? v : 'alloy';
  if (isObject(v) && v.type === 'openai' && typeof v.name === 'string') return v.name;
  // Azure voices speak with the emulator's default espeak voice.
  return 'alloy';
}

function formatFromGa(f: unknown): string {
  return (isObject(f) && FORMAT_FROM_GA[String(f.type)]) || 'pcm16';
}

function itemToGa(item: Json): Json {
  if (item.type !== 'message' || item.role !== 'assistant' || !Array.isArray(item.content)) return item;
  const parts = item.content.map((p: unknown) =>
    isObject(p) && p.type === 'text'
      ? { ...p, type: 'output_text' }
      : isObject(p) && p.type === 'audio'
        ? { ...p, type: 'output_audio' }
        : p,
  );
  return { ...item, content: parts };
}

function itemFromGa(item: Json): Json {
  if (!Array.isArray(item.content)) return item;
  return { ...item, content: item.content.map((p: unknown) => (isObject(p) ? partFromGa(p) : p)) };
}

function partFromGa(p: Json): Json {
  if (p.type === 'output_text') return { ...p, type: 'text' };
  if (p.type === 'output_audio') return { ...p, type: 'audio' };
  return p;
}
