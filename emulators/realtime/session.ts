import type {
  ConversationItem,
  RealtimeClientEvent,
  RealtimeServerEvent,
  RealtimeSessionCreateRequest,
} from 'openai/resources/realtime/realtime';
import { base64ToPcm, concatPcm, decodeG711, msOf, RATE, resample } from './audio';
import type { EmulatorContext, Sink } from './context';
import type { PendingCall } from './model';
import { errorEvent, newId, parseClientEvent, type ServerEventDraft } from './protocol';
import { type ActiveResponse, startResponse } from './responder';
import { inputFormatOf, mergeSession, normalizeSession, vadOf, voiceOf, type SessionObject } from './session-config';
import { modalityProblem, unknownSessionField } from './strict';
import { EnergyVad } from './vad';
import { handleItemEvent, stripAudio } from './conversation-items';

export type SessionKind = 'direct' | 'webrtc' | 'sip';

/** Where assistant audio goes when the session has a media leg (WebRTC): played in real time, not as events. */
export interface SessionMedia {
  play(pcm: Int16Array, isCancelled: () => boolean): Promise<void>;
}

const MAX_APPEND_BYTES = 15 * 1024 * 1024;

/**
 * One Realtime session: its config, conversation, input audio buffer with server VAD, and the response in
 * flight. Every attached connection (direct WS, WebRTC data channel, sideband WS) gets every server event;
 * errors go only to the connection whose event caused them.
 */
export class RealtimeSession {
  readonly id = newId('sess');
  readonly conversationId = newId('conv');
  config: SessionObject;
  readonly items: ConversationItem[] = [];
  readonly sinks = new Set<Sink>();
  /** Function calls the scripted model made, by call_id. */
  readonly calls = new Map<string, PendingCall>();
  /** Call ids whose outputs a completed response has already spoken about. */
  readonly answeredCalls = new Set<string>();
  /** Recognition still running for user audio items, by item id. */
  readonly transcriptions = new Map<string, Promise<void>>();
  /** Length of the audio in each item that has some (truncate checks against it). */
  readonly audioMs = new Map<string, number>();
  media?: SessionMedia;
  active?: ActiveResponse;
  /** Assistant audio playing on the media leg (WebRTC), possibly after its response is done. */
  playback?: { responseId: string; itemId: string; startedAt: number; totalMs: number; stopped: boolean };
  eventsSent = 0;
  assistantAudioSent = false;
  ended = false;
  private buffer: Int16Array[] = [];
  private bufferSamples = 0;
  private receivedSamples = 0;
  private vad?: EnergyVad;
  private speechItemId?: string;
  private readonly endListeners: ((reason: string) => void)[] = [];

  constructor(
    readonly ctx: EmulatorContext,
    readonly opts: {
      kind: SessionKind;
      model: string;
      config?: Partial<RealtimeSessionCreateRequest>;
      /** Opened with an ephemeral key (the browser's connection holds it). */
      ephemeral?: boolean;
      callId?: string;
    },
  ) {
    this.config = normalizeSession(
      this.id,
      opts.config,
      opts.config?.model ?? opts.model,
      (ctx.maxSessionMs ?? 3_600_000) / 1000,
    );
    this.syncVad();
    // Like the service, a session lives at most its maximum duration (60 minutes by default).
    const expiry = setTimeout(() => {
      this.emit(
        errorEvent(
          'session_expired',
          `Your session hit the maximum duration of ${Math.round((ctx.maxSessionMs ?? 3_600_000) / 60_000)} minutes.`,
        ),
      );
      this.end('session expired', 1000);
    }, ctx.maxSessionMs ?? 3_600_000);
    expiry.unref();
    this.onEnd(() => clearTimeout(expiry));
  }

  /** Caller audio from outside the protocol (a simulated phone caller): PCM16 24 kHz, paced or not. */
  async injectAudio(pcm: Int16Array, realTime = false): Promise<void> {
    const chunk = RATE / 50; // 20 ms, like RTP
    for (let i = 0; i < pcm.length && !this.ended; i += chunk) {
      this.appendAudio(pcm.slice(i, i + chunk));
      if (realTime) await new Promise((r) => setTimeout(r, 20));
    }
  }

  get kind(): SessionKind {
    return this.opts.kind;
  }

  get callId(): string | undefined {
    return this.opts.callId;
  }

  /** Adds a connection; it is greeted with `session.created` showing the session as it is now. */
  attach(sink: Sink): void {
    this.sinks.add(sink);
    this.sendTo(sink, { type: 'session.created', event_id: newId('event'), session: this.config });
  }

  detach(sink: Sink): void {
    this.sinks.delete(sink);
    if (this.kind === 'direct' && this.sinks.size === 0) this.end('client closed');
  }

  onEnd(fn: (reason: string) => void): void {
    this.endListeners.push(fn);
  }

  end(reason: string, closeCode = 1000): void {
    if (this.ended) return;
    this.ended = true;
    if (this.active) this.active.cancel('client_cancelled');
    for (const s of [...this.sinks]) s.close(closeCode, reason.slice(0, 120));
    this.sinks.clear();
    for (const fn of this.endListeners) fn(reason);
  }

  emit(draft: ServerEventDraft): RealtimeServerEvent {
    const event = { ...draft, event_id: newId('event') } as RealtimeServerEvent;
    if (this.ended) return event;
    const json = JSON.stringify(event);
    this.eventsSent++;
    for (const s of this.sinks) s.send(json);
    return event;
  }

  sendTo(sink: Sink, event: RealtimeServerEvent): void {
    sink.send(JSON.stringify(event));
  }

  handleMessage(sink: Sink, raw: string): void {
    if (this.ended) return;
    const parsed = parseClientEvent(raw);
    if (!parsed.ok) return this.sendTo(sink, parsed.error);
    try {
      this.handle(sink, parsed.event);
    } catch (err) {
      this.ctx.log(`realtime emulator: ${(err as Error).stack ?? err}`);
      this.sendTo(
        sink,
        errorEvent('server_error', 'The server had an error while processing the event.', {
          type: 'server_error',
          clientEventId: parsed.event.event_id,
        }),
      );
    }
  }

  private handle(sink: Sink, e: RealtimeClientEvent): void {
    const fail = (code: string, message: string, param?: string) =>
      this.sendTo(sink, errorEvent(code, message, { param, clientEventId: e.event_id }));
    switch (e.type) {
      case 'session.update': {
        const update = e.session as Partial<RealtimeSessionCreateRequest>;
        if (!update.type)
          return fail('missing_required_parameter', "Missing required parameter: 'session.type'.", 'session.type');
        if (update.type !== 'realtime')
          return fail('invalid_value', "Cannot change a realtime session's type to 'transcription'.", 'session.type');
        // The service lets whoever holds the session change it, the browser's ephemeral key included.
        const problem =
          unknownSessionField(update) ?? modalityProblem(update.output_modalities, 'session.output_modalities');
        if (problem) return fail(problem.code, problem.message, problem.param);
        if (
          this.assistantAudioSent &&
          update.audio?.output?.voice !== undefined &&
          JSON.stringify(update.audio.output.voice) !== JSON.stringify(this.config.audio?.output?.voice)
        ) {
          return fail(
            'cannot_update_voice',
            "Cannot update a conversation's voice if assistant audio is present.",
            'session.audio.output.voice',
          );
        }
        this.config = mergeSession(this.config, update);
        this.syncVad();
        this.emit({ type: 'session.updated', session: this.config });
        return;
      }
      case 'input_audio_buffer.append': {
        if (e.audio.length > (MAX_APPEND_BYTES * 4) / 3)
          return fail('invalid_value', 'Audio chunk too large: at most 15 MiB per append.', 'audio');
        const format = inputFormatOf(this.config);
        const pcm =
          format === 'pcm'
            ? base64ToPcm(e.audio)
            : resample(decodeG711(Buffer.from(e.audio, 'base64'), format), 8000, RATE);
        this.appendAudio(pcm);
        return;
      }
      case 'input_audio_buffer.commit': {
        const ms = msOf(this.bufferSamples);
        if (ms < 100) {
          return fail(
            'input_audio_buffer_commit_empty',
            'Error committing input audio buffer: buffer too small. ' +
              `Expected at least 100ms of audio, but buffer only has ${ms.toFixed(2)}ms of audio.`,
          );
        }
        this.commitBuffer();
        return;
      }
      case 'input_audio_buffer.clear':
        this.buffer = [];
        this.bufferSamples = 0;
        this.vad?.reset();
        this.speechItemId = undefined;
        this.emit({ type: 'input_audio_buffer.cleared' });
        return;
      case 'output_audio_buffer.clear':
        if (this.kind !== 'webrtc')
          return fail('invalid_value', 'output_audio_buffer.clear is only supported for WebRTC sessions.', 'type');
        if (this.active) this.active.cancel('client_cancelled');
        this.stopPlayback();
        return;
      case 'conversation.item.create':
      case 'conversation.item.retrieve':
      case 'conversation.item.delete':
      case 'conversation.item.truncate':
        return handleItemEvent(this, sink, e, fail);
      case 'response.create': {
        if (this.active) {
          return fail(
            'conversation_already_has_active_response',
            `Conversation already has an active response in progress: ${this.active.id}. ` +
              'Wait until the response is finished before creating a new one.',
          );
        }
        startResponse(this, e.response ?? {});
        return;
      }
      case 'response.cancel': {
        if (!this.active || (e.response_id && e.response_id !== this.active.id)) {
          return fail('response_cancel_not_active', 'Cancellation failed: no active response found.');
        }
        this.active.cancel('client_cancelled');
        return;
      }
    }
  }

  /** Inserts an item and announces it (`added` then `done`, as the GA protocol does for complete items). */
  insertItem(item: ConversationItem, index = this.items.length, announce = true): void {
    this.items.splice(index, 0, item);
    if (!announce) return;
    const previous_item_id = index > 0 ? (this.items[index - 1]!.id ?? null) : null;
    this.emit({ type: 'conversation.item.added', previous_item_id, item: stripAudio(item) });
    this.emit({ type: 'conversation.item.done', previous_item_id, item: stripAudio(item) });
  }

  /** Audio from the client (WS append, WebRTC track, …), PCM16 24 kHz: buffered and run through VAD. */
  appendAudio(pcm: Int16Array): void {
    if (this.ended || pcm.length === 0) return;
    this.buffer.push(pcm);
    this.bufferSamples += pcm.length;
    this.receivedSamples += pcm.length;
    if (!this.vad) return;
    const settings = vadOf(this.config)!;
    for (const ev of this.vad.push(pcm)) {
      if (ev.type === 'speech_started') {
        this.speechItemId = newId('item');
        this.emit({
          type: 'input_audio_buffer.speech_started',
          audio_start_ms: ev.audioStartMs,
          item_id: this.speechItemId,
        });
        if (settings.interruptResponse) {
          this.active?.cancel('turn_detected');
          this.stopPlayback();
        }
      } else {
        this.emit({
          type: 'input_audio_buffer.speech_stopped',
          audio_end_ms: ev.audioEndMs,
          item_id: this.speechItemId ?? newId('item'),
        });
        this.commitBuffer(this.speechItemId);
        if (settings.createResponse && !this.active) startResponse(this, {});
      }
    }
  }

  /**
   * Stops assistant audio on the media leg. The service then truncates the assistant item to what was played,
   * so the conversation holds only what the user heard.
   */
  private stopPlayback(): void {
    const p = this.playback;
    if (!p || p.stopped) return;
    p.stopped = true;
    const played = Math.min(p.totalMs, Date.now() - p.startedAt);
    if (this.items.some((i) => i.id === p.itemId)) {
      this.audioMs.set(p.itemId, played);
      this.emit({ type: 'conversation.item.truncated', item_id: p.itemId, content_index: 0, audio_end_ms: played });
    }
  }

  get audioReceivedMs(): number {
    return msOf(this.receivedSamples);
  }

  private commitBuffer(itemId = newId('item')): void {
    const pcm = concatPcm(this.buffer);
    this.buffer = [];
    this.bufferSamples = 0;
    this.speechItemId = undefined;
    const previous_item_id = this.items.at(-1)?.id ?? null;
    this.emit({ type: 'input_audio_buffer.committed', item_id: itemId, previous_item_id });
    const item: ConversationItem = {
      id: itemId,
      object: 'realtime.item',
      type: 'message',
      role: 'user',
      status: 'completed',
      content: [{ type: 'input_audio', transcript: null as unknown as string }],
    };
    this.audioMs.set(itemId, msOf(pcm.length));
    this.insertItem(item);
    const transcribe = this.config.audio?.input?.transcription;
    this.track(
      itemId,
      this.recognize(pcm).then((transcript) => {
        item.content[0]!.transcript = transcript;
        if (transcribe) {
          for (const delta of transcript.match(/\S+\s*/g) ?? []) {
            this.emit({
              type: 'conversation.item.input_audio_transcription.delta',
              item_id: itemId,
              content_index: 0,
              delta,
            });
          }
          this.emit({
            type: 'conversation.item.input_audio_transcription.completed',
            item_id: itemId,
            content_index: 0,
            transcript,
            usage: { type: 'duration', seconds: Math.round(pcm.length / RATE) },
          });
        }
      }),
    );
  }

  /** Recognizes user audio; `[inaudible]` when recognition fails. */
  recognize(pcm: Int16Array): Promise<string> {
    return this.ctx.recognizer.recognize(pcm).catch((err) => {
      this.ctx.log(`realtime emulator: recognition failed: ${(err as Error).message}`);
      return '[inaudible]';
    });
  }

  /** Keeps a running recognition findable by item id until it settles. */
  track(itemId: string, p: Promise<void>): void {
    this.transcriptions.set(itemId, p);
    void p.finally(() => this.transcriptions.delete(itemId));
  }

  private syncVad(): void {
    const settings = vadOf(this.config);
    if (!settings) this.vad = undefined;
    else if (this.vad) this.vad.update(settings);
    else this.vad = new EnergyVad(settings);
  }

  get voice(): string {
    return voiceOf(this.config);
  }
}
