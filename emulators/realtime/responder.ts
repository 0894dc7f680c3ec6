import type {
  ConversationItem,
  RealtimeResponse,
  RealtimeResponseCreateParams,
  RealtimeResponseStatus,
} from 'openai/resources/realtime/realtime';
import { msOf, pcmToBase64, RATE } from './audio';
import { decide, type Decision } from './model';
import { newId } from './protocol';
import type { RealtimeSession } from './session';
import { functionToolNames } from './session-config';

type CancelReason = 'client_cancelled' | 'turn_detected';

export class ActiveResponse {
  readonly id = newId('resp');
  cancelled?: CancelReason;
  cancel(reason: CancelReason): void {
    this.cancelled ??= reason;
  }
}

const tick = () => new Promise<void>((r) => setImmediate(r));
/** Output audio goes out in 100 ms deltas, like the service's. */
const AUDIO_CHUNK = RATE / 10;
const audioChunks = new WeakMap<Int16Array, string[]>();

function chunksOf(pcm: Int16Array): string[] {
  let c = audioChunks.get(pcm);
  if (!c) {
    c = [];
    for (let i = 0; i < pcm.length; i += AUDIO_CHUNK) c.push(pcmToBase64(pcm.subarray(i, i + AUDIO_CHUNK)));
    audioChunks.set(pcm, c);
  }
  return c;
}

/** Starts a response; `conversation: "none"` responses run out of band and may overlap the in-band one. */
export function startResponse(session: RealtimeSession, params: RealtimeResponseCreateParams): ActiveResponse {
  const r = new ActiveResponse();
  const inBand = params.conversation !== 'none';
  if (inBand) session.active = r;
  void run(session, r, params, inBand)
    .catch((err) => session.ctx.log(`realtime emulator: response failed: ${(err as Error).stack ?? err}`))
    .finally(() => {
      if (session.active === r) session.active = undefined;
    });
  return r;
}

async function run(
  session: RealtimeSession,
  r: ActiveResponse,
  params: RealtimeResponseCreateParams,
  inBand: boolean,
): Promise<void> {
  const cfg = session.config;
  const modalities = params.output_modalities ?? cfg.output_modalities ?? ['audio'];
  const withAudio = modalities.includes('audio');
  const voice =
    (typeof params.audio?.output?.voice === 'string' ? params.audio.output.voice : undefined) ?? session.voice;
  const base: RealtimeResponse = {
    object: 'realtime.response',
    id: r.id,
    status: 'in_progress',
    status_details: undefined,
    output: [],
    conversation_id: inBand ? session.conversationId : undefined,
    output_modalities: modalities,
    max_output_tokens: params.max_output_tokens ?? cfg.max_output_tokens ?? 'inf',
    audio: { output: { format: cfg.audio?.output?.format ?? { type: 'audio/pcm', rate: 24000 }, voice } },
    usage: undefined,
    metadata: params.metadata ?? null,
  };
  session.emit({
    type: 'response.created',
    response: { ...base, status_details: null, usage: null } as unknown as RealtimeResponse,
  });

  // The response's input is the conversation as it stood when the response was created: an item added while
  // it runs (a tool output arriving during a "one moment" line) is not part of it. Transcripts still pending
  // are awaited below; they fill in items already in this list.
  const conversation = [...session.items];
  const delay = session.ctx.faults.delayMs;
  if (delay) await new Promise((res) => setTimeout(res, delay));
  await Promise.all(session.transcriptions.values());

  const items = inBand ? [...conversation, ...(params.input ?? [])] : (params.input ?? conversation);
  const toolChoice = params.tool_choice ?? cfg.tool_choice;
  const tools = toolChoice === 'none' ? [] : functionToolNames(params.tools ?? cfg.tools);
  const decision: Decision = decide(session.ctx.scenarios, {
    items,
    tools,
    instructions: params.instructions ?? cfg.instructions ?? '',
    calls: session.calls,
    answered: session.answeredCalls,
    responseInstructions: params.instructions,
    forceTool: forcedTool(toolChoice),
  });

  const output: ConversationItem[] = [];
  let outputText = 0;
  let outputAudioMs = 0;
  if (!r.cancelled && decision.kind === 'call') {
    output.push(await emitFunctionCall(session, r, decision, inBand));
  } else if (!r.cancelled && decision.kind === 'say') {
    const { item, spoken, audioMs } = await emitMessage(session, r, decision.text, withAudio, voice, inBand);
    output.push(item);
    outputText = spoken.length;
    outputAudioMs = audioMs;
  }

  if (inBand && !r.cancelled && decision.kind === 'say')
    for (const id of decision.answers ?? []) session.answeredCalls.add(id);
  const status: RealtimeResponse['status'] = r.cancelled ? 'cancelled' : 'completed';
  const status_details: RealtimeResponseStatus | null = r.cancelled ? { type: 'cancelled', reason: r.cancelled } : null;
  session.emit({
    type: 'response.done',
    response: {
      ...base,
      status,
      status_details,
      output,
      usage: usageOf(session, items, cfg.instructions ?? '', outputText, outputAudioMs, decision),
    } as RealtimeResponse,
  });
}

async function emitMessage(
  session: RealtimeSession,
  r: ActiveResponse,
  text: string,
  withAudio: boolean,
  voice: string,
  inBand: boolean,
) {
  const speech = withAudio ? session.ctx.speech.synthesize(text, voice) : undefined;
  const item_id = newId('item');
  const response_id = r.id;
  const item: ConversationItem = {
    id: item_id,
    object: 'realtime.item',
    type: 'message',
    role: 'assistant',
    status: 'in_progress',
    content: [],
  };
  session.emit({ type: 'response.output_item.added', response_id, output_index: 0, item: { ...item, content: [] } });
  if (inBand) {
    const previous_item_id = session.items.at(-1)?.id ?? null;
    session.insertItem(item, undefined, false);
    session.emit({ type: 'conversation.item.added', previous_item_id, item: { ...item, content: [] } });
  }
  const ids = { response_id, item_id, output_index: 0, content_index: 0 };
  session.emit({
    type: 'response.content_part.added',
    ...ids,
    part: withAudio ? { type: 'audio', transcript: '' } : { type: 'text', text: '' },
  });

  const words = text.match(/\S+\s*/g) ?? [text];
  let spoken = '';
  let audioMs = 0;
  if (withAudio) {
    const pcm = await speech!;
    const chunks = chunksOf(pcm);
    const perWord = Math.ceil(chunks.length / words.length);
    const media = session.media;
    let sent = 0;
    if (media) {
      // WebRTC: audio goes on the track in real time; the data channel only learns when playback starts and ends.
      session.assistantAudioSent = true;
      session.emit({ type: 'output_audio_buffer.started', response_id });
      const playback = {
        responseId: response_id,
        itemId: item_id,
        startedAt: Date.now(),
        totalMs: msOf(pcm.length),
        stopped: false,
      };
      session.playback = playback;
      void media
        .play(pcm, () => playback.stopped)
        .then(() => {
          if (session.playback === playback) session.playback = undefined;
          session.emit({
            type: playback.stopped ? 'output_audio_buffer.cleared' : 'output_audio_buffer.stopped',
            response_id,
          });
        });
      audioMs = msOf(pcm.length);
    }
    for (const w of words) {
      if (r.cancelled) break;
      spoken += w;
      session.emit({ type: 'response.output_audio_transcript.delta', ...ids, delta: w });
      if (!media) {
        for (let k = 0; k < perWord && sent < chunks.length; k++, sent++) {
          session.emit({ type: 'response.output_audio.delta', ...ids, delta: chunks[sent]! });
          session.assistantAudioSent = true;
        }
      }
      await tick();
    }
    if (!media) audioMs = Math.min(msOf(pcm.length), sent * 100);
    session.emit({ type: 'response.output_audio.done', ...ids });
    session.emit({ type: 'response.output_audio_transcript.done', ...ids, transcript: spoken.trim() });
    item.content = [{ type: 'output_audio', transcript: spoken.trim() }];
    session.emit({ type: 'response.content_part.done', ...ids, part: { type: 'audio', transcript: spoken.trim() } });
    session.audioMs.set(item_id, audioMs);
  } else {
    for (const w of words) {
      if (r.cancelled) break;
      spoken += w;
      session.emit({ type: 'response.output_text.delta', ...ids, delta: w });
      await tick();
    }
    session.emit({ type: 'response.output_text.done', ...ids, text: spoken.trim() });
    item.content = [{ type: 'output_text', text: spoken.trim() }];
    session.emit({ type: 'response.content_part.done', ...ids, part: { type: 'text', text: spoken.trim() } });
  }
  item.status = r.cancelled ? 'incomplete' : 'completed';
  session.emit({ type: 'response.output_item.done', response_id, output_index: 0, item });
  if (inBand) session.emit({ type: 'conversation.item.done', item });
  return { item, spoken: spoken.trim(), audioMs };
}

async function emitFunctionCall(
  session: RealtimeSession,
  r: ActiveResponse,
  d: Extract<Decision, { kind: 'call' }>,
  inBand: boolean,
) {
  const item_id = newId('item');
  const call_id = newId('call');
  const response_id = r.id;
  const item: ConversationItem = {
    id: item_id,
    object: 'realtime.item',
    type: 'function_call',
    status: 'in_progress',
    name: d.name,
    call_id,
    arguments: '',
  };
  session.calls.set(call_id, d.pending);
  session.emit({ type: 'response.output_item.added', response_id, output_index: 0, item: { ...item } });
  if (inBand) {
    const previous_item_id = session.items.at(-1)?.id ?? null;
    session.insertItem(item, undefined, false);
    session.emit({ type: 'conversation.item.added', previous_item_id, item: { ...item } });
  }
  for (let i = 0; i < d.arguments.length && !r.cancelled; i += 12) {
    session.emit({
      type: 'response.function_call_arguments.delta',
      response_id,
      item_id,
      output_index: 0,
      call_id,
      delta: d.arguments.slice(i, i + 12),
    });
    await tick();
  }
  item.arguments = d.arguments;
  item.status = r.cancelled ? 'incomplete' : 'completed';
  session.emit({
    type: 'response.function_call_arguments.done',
    response_id,
    item_id,
    output_index: 0,
    call_id,
    name: d.name,
    arguments: d.arguments,
  });
  session.emit({ type: 'response.output_item.done', response_id, output_index: 0, item: { ...item } });
  if (inBand) session.emit({ type: 'conversation.item.done', item: { ...item } });
  return item;
}

/** `required` → any tool; `{ type: "function", name }` → that one. */
function forcedTool(choice: unknown): string | true | undefined {
  if (choice === 'required') return true;
  if (choice && typeof choice === 'object' && (choice as { type?: string }).type === 'function')
    return (choice as { name?: string }).name;
  return undefined;
}

/** Token counts derived from lengths (4 characters a token, 100 ms of audio in, 50 ms out): stable across runs. */
function usageOf(
  session: RealtimeSession,
  items: ConversationItem[],
  instructions: string,
  outText: number,
  outAudioMs: number,
  d: Decision,
) {
  let chars = instructions.length;
  let audioMs = 0;
  let images = 0;
  for (const it of items) {
    if (it.type === 'message') {
      for (const c of it.content) {
        if (c.type === 'input_image') images++;
        else if (c.type === 'input_audio') audioMs += session.audioMs.get(it.id ?? '') ?? 0;
        else chars += (('text' in c && c.text) || ('transcript' in c && c.transcript) || '').length;
      }
    } else if (it.type === 'function_call') chars += it.arguments.length + it.name.length;
    else if (it.type === 'function_call_output') chars += it.output.length;
  }
  const text_tokens = Math.ceil(chars / 4);
  const audio_tokens = Math.ceil(audioMs / 100);
  const image_tokens = images * 85;
  const input_tokens = text_tokens + audio_tokens + image_tokens;
  const outTextTokens = Math.ceil((d.kind === 'call' ? d.arguments.length + d.name.length : outText) / 4);
  const outAudioTokens = Math.ceil(outAudioMs / 50);
  const output_tokens = outTextTokens + outAudioTokens;
  return {
    total_tokens: input_tokens + output_tokens,
    input_tokens,
    output_tokens,
    input_token_details: {
      text_tokens,
      audio_tokens,
      image_tokens,
      cached_tokens: 0,
      cached_tokens_details: { text_tokens: 0, audio_tokens: 0, image_tokens: 0 },
    },
    output_token_details: { text_tokens: outTextTokens, audio_tokens: outAudioTokens },
  };
}
