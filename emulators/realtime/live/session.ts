import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import type { SessionClosedEvent, SessionResource } from 'openai/resources/live/live';
import type { EmulatorContext, Sink } from '../context';
import { newId } from '../protocol';
import { pcmToBase64, RATE } from '../audio';
import { resourceOf, type LiveTransport, type StartupConfig } from './config';
import { Delegations } from './delegation';
import { handleLiveCommand } from './commands';
import { engineConfig, engineKind, LiveEngine } from './engine';
import { encodeOutput } from './audio-format';
import {
  parseLiveClientEvent,
  serverEventAllowed,
  SIDEBAND_ONLY_SERVER_EVENTS,
  type LiveRole,
  type ServerEventFilter,
} from './events';

/** One connection to a Live session: the primary WebSocket, the browser's data channel, or a sideband. */
export interface LiveSink {
  readonly id: string;
  readonly role: LiveRole;
  send(json: string): void;
  close(code?: number, reason?: string): void;
}

export type CloseReason = SessionClosedEvent['reason'];
type Json = Record<string, unknown>;

/**
 * A Live session: the startup configuration (fixed), its connections, and the translation between the Live
 * vocabulary and the Realtime engine the emulator's voice model runs on. The browser's data channel gets only
 * what `client.data_channel` allows; sidebands get everything and may send their own set of commands.
 */
export class LiveSession {
  readonly id: string;
  resource: SessionResource;
  readonly engine: LiveEngine;
  readonly sinks = new Set<LiveSink>();
  readonly startedAt = Date.now();
  readonly delegations: Delegations;
  closed?: CloseReason;
  eventsSent = 0;
  /** Whole output speech, for `usage.seconds` (assistant audio, as the service counts it). */
  outputAudioMs = 0;
  private readonly endListeners: ((reason: CloseReason) => void)[] = [];
  private outputClock = 0;
  private speech = { startMs: 0, endMs: 0, next: 0 };
  private readonly usageTimer: NodeJS.Timeout;
  private readonly allowedClient?: string[];
  private readonly allowedServer: ServerEventFilter;

  constructor(
    readonly ctx: EmulatorContext,
    readonly opts: {
      id?: string;
      transport: LiveTransport;
      config: StartupConfig;
      usageIntervalMs?: number;
      maxSessionMs?: number;
    },
  ) {
    this.id = opts.id ?? newId('live', 32);
    const maxMs = opts.maxSessionMs ?? ctx.maxSessionMs ?? 3_600_000;
    this.resource = resourceOf(
      this.id,
      opts.config as unknown as Json,
      opts.transport,
      Math.floor((Date.now() + maxMs) / 1000),
    );
    const dc = (this.resource.client as { data_channel?: Json } | undefined)?.data_channel;
    this.allowedClient = Array.isArray(dc?.allowed_client_events) ? (dc.allowed_client_events as string[]) : undefined;
    this.allowedServer = Array.isArray(dc?.allowed_server_events)
      ? (dc.allowed_server_events as ServerEventFilter)
      : undefined;
    this.engine = new LiveEngine(ctx, {
      kind: engineKind(opts.transport),
      model: this.resource.model,
      config: engineConfig(ctx, this.resource, opts.transport),
      callId: this.id,
    });
    for (const item of this.resource.input ?? []) {
      const text = item.content[0]?.text ?? '';
      const role = item.role === 'developer' ? 'system' : item.role;
      const type = role === 'assistant' ? 'output_text' : 'input_text';
      this.engine.insertItem(
        { id: newId('item'), type: 'message', role, status: 'completed', content: [{ type, text }] } as never,
        undefined,
        false,
      );
    }
    this.delegations = new Delegations(this);
    this.engine.onInputAudio = (pcm) => this.reflectInput(pcm);
    const internal: Sink = {
      id: newId('conn'),
      kind: 'websocket',
      principal: { kind: 'api-key' },
      send: (json) => this.fromEngine(JSON.parse(json) as RealtimeServerEvent),
      close: () => {},
    };
    this.engine.attach(internal);
    this.engine.onEnd((reason) => this.close(closeReasonOf(reason)));
    this.usageTimer = setInterval(
      () => this.emit({ type: 'session.usage.updated', usage: this.usage() }),
      opts.usageIntervalMs ?? 15_000,
    );
    this.usageTimer.unref();
  }

  get transport(): LiveTransport {
    return this.opts.transport;
  }

  get elapsedMs(): number {
    return Date.now() - this.startedAt;
  }

  usage(): { seconds: number } {
    return { seconds: Math.floor(this.outputAudioMs / 1000) };
  }

  onClose(fn: (reason: CloseReason) => void): void {
    this.endListeners.push(fn);
  }

  /** Adds a connection. The primary WebSocket and the data channel are greeted with `session.started`. */
  attach(sink: LiveSink, opts: { greet: boolean; clientEventId?: string }): void {
    this.sinks.add(sink);
    const cid = opts.clientEventId ? { client_event_id: opts.clientEventId } : {};
    if (opts.greet) this.sendTo(sink, { type: 'session.started', session: this.resource, ...cid });
    if (sink.role === 'datachannel' && (this.allowedClient || this.allowedServer))
      this.sendTo(sink, {
        type: 'info',
        code: 'data_channel_permissions',
        message:
          `This data channel may send ${this.allowedClient ? JSON.stringify(this.allowedClient) : 'all client events'} ` +
          `and receives ${this.allowedServer ? JSON.stringify(this.allowedServer) : 'all server events'}.`,
      });
  }

  detach(sink: LiveSink): void {
    this.sinks.delete(sink);
  }

  /** Stamps an event and sends it to every connection allowed to see it. */
  emit(draft: Json & { type: string }): void {
    if (this.closed) return;
    const event = { ...draft, event_id: newId('event') };
    const json = JSON.stringify(event);
    this.eventsSent++;
    for (const s of this.sinks) if (this.mayReceive(s, event)) s.send(json);
  }

  /** Sends to some roles only (reflected audio carries timestamps on the sideband, not on the primary). */
  emitTo(roles: LiveRole[], draft: Json & { type: string }, stamp = true): void {
    if (this.closed) return;
    const event = stamp ? { ...draft, event_id: newId('event') } : draft;
    const json = JSON.stringify(event);
    for (const s of this.sinks) if (roles.includes(s.role) && this.mayReceive(s, event)) s.send(json);
  }

  sendTo(sink: LiveSink, draft: Json & { type: string }): void {
    if (!this.mayReceive(sink, draft)) return;
    sink.send(JSON.stringify({ ...draft, event_id: draft.event_id ?? newId('event') }));
  }

  private mayReceive(sink: LiveSink, event: { type: string; event?: unknown }): boolean {
    if (sink.role === 'sideband') return true;
    if (SIDEBAND_ONLY_SERVER_EVENTS.has(event.type)) return false;
    return sink.role !== 'datachannel' || serverEventAllowed(this.allowedServer, event);
  }

  /** One client message from a connection: parsed for its role, checked against the data channel's grant. */
  handleMessage(sink: LiveSink, raw: string): void {
    if (this.closed) return;
    const parsed = parseLiveClientEvent(raw, sink.role);
    if (!parsed.ok) return this.sendTo(sink, parsed.error as never);
    const e = parsed.event;
    if (sink.role === 'datachannel' && this.allowedClient && !this.allowedClient.includes(e.type))
      return this.fail(
        sink,
        e,
        'event_not_allowed',
        `Client event '${e.type}' is not allowed on this data channel.`,
        'type',
      );
    try {
      handleLiveCommand(this, sink, e);
    } catch (err) {
      this.ctx.log(`realtime emulator (live): ${(err as Error).stack ?? err}`);
      this.fail(
        sink,
        e,
        'server_error',
        'The server had an error while processing the event.',
        undefined,
        'server_error',
      );
    }
  }

  fail(
    sink: LiveSink,
    e: { event_id?: string | null },
    code: string,
    message: string,
    param?: string,
    type = 'invalid_request_error',
  ): void {
    const cid = typeof e.event_id === 'string' ? e.event_id : undefined;
    this.sendTo(sink, {
      type: 'error',
      error: { type, code, message, ...(param ? { param } : {}), ...(cid ? { client_event_id: cid } : {}) },
      ...(cid ? { client_event_id: cid } : {}),
    });
  }

  /** Ends the session: `session.closed` with the reason and final usage, then every connection closes. */
  close(reason: CloseReason): void {
    if (this.closed) return;
    const closed: Json & { type: string } = {
      type: 'session.closed',
      reason,
      session: this.resource,
      usage: this.usage(),
    };
    this.emit(closed);
    this.closed = reason;
    clearInterval(this.usageTimer);
    this.delegations.stop();
    for (const s of [...this.sinks]) s.close(1000, `session closed: ${reason}`);
    this.sinks.clear();
    this.engine.active?.cancel('client_cancelled');
    const teardown = () => {
      if (!this.engine.ended) this.engine.end(`live session closed (${reason})`);
      for (const fn of this.endListeners) fn(reason);
    };
    // The peer connection carries the data channel: `session.closed` has to leave before it goes.
    if (this.transport === 'webrtc' && !this.engine.ended) setTimeout(teardown, 200).unref();
    else teardown();
  }

  /**
   * Speech on the media leg (WebRTC) is reflected to sidebands as timestamped PCM, as the service reflects it;
   * the page hears it on its track.
   */
  reflectMedia(): void {
    const media = this.engine.media;
    if (!media) return;
    this.engine.media = {
      play: (pcm, isCancelled) => {
        if (this.hasSideband) {
          const start = this.elapsedMs;
          for (let i = 0, n = 0; i < pcm.length; i += RATE / 10, n++)
            this.emitTo(['sideband'], {
              type: 'session.output_audio.delta',
              delta: pcmToBase64(pcm.subarray(i, i + RATE / 10)),
              start_ms: start + n * 100,
              end_ms: start + Math.min((n + 1) * 100, Math.round((pcm.length / RATE) * 1000)),
            });
        }
        return media.play(pcm, isCancelled);
      },
    };
  }

  /** Whether a sideband is attached: reflected audio is only worth encoding then. */
  private get hasSideband(): boolean {
    for (const s of this.sinks) if (s.role === 'sideband') return true;
    return false;
  }

  private reflectInput(pcm: Int16Array): void {
    if (this.closed || !this.hasSideband) return;
    // Reflected input has the command's shape and no event_id or timestamps.
    this.emitTo(['sideband'], { type: 'session.input_audio.append', audio: pcmToBase64(pcm) }, false);
  }

  /** The engine's Realtime events, said again in the Live vocabulary. */
  private fromEngine(e: RealtimeServerEvent): void {
    switch (e.type) {
      case 'input_audio_buffer.speech_started':
        this.speech = { startMs: e.audio_start_ms, endMs: e.audio_start_ms, next: e.audio_start_ms };
        return;
      case 'input_audio_buffer.speech_stopped':
        this.speech.endMs = e.audio_end_ms;
        return;
      case 'conversation.item.input_audio_transcription.delta': {
        const start = Math.min(this.speech.next, this.speech.endMs);
        const end = Math.min(start + 200, Math.max(this.speech.endMs, start));
        this.speech.next = end;
        this.emit({ type: 'session.input_transcript.delta', delta: e.delta, start_ms: start, end_ms: end });
        return;
      }
      case 'response.output_audio_transcript.delta': {
        const start = Math.max(this.outputClock, this.elapsedMs);
        this.outputClock = start + 200;
        this.emit({ type: 'session.output_transcript.delta', delta: e.delta, start_ms: start, end_ms: start + 200 });
        return;
      }
      case 'response.output_audio.delta': {
        const ms = Math.round((Buffer.from(e.delta, 'base64').length / 2 / 24_000) * 1000);
        const start = this.elapsedMs;
        this.emitTo(
          ['primary'],
          { type: 'session.output_audio.delta', delta: encodeOutput(e.delta, this.resource) },
          false,
        );
        this.emitTo(['sideband'], {
          type: 'session.output_audio.delta',
          delta: e.delta,
          start_ms: start,
          end_ms: start + ms,
        });
        return;
      }
      case 'response.output_item.done':
        if (e.item.type === 'function_call')
          this.delegations.delegate({
            callId: e.item.call_id ?? '',
            name: e.item.name ?? '',
            args: e.item.arguments ?? '',
          });
        else if (e.item.type === 'message' && e.item.role === 'assistant')
          this.outputAudioMs += this.engine.audioMs.get(e.item.id ?? '') ?? 0;
        return;
      case 'response.done':
        setImmediate(() => this.delegations.engineIdle());
        return;
      case 'error':
        this.ctx.log(`realtime emulator (live): engine error ${e.error.code}: ${e.error.message}`);
        return;
      default:
        return;
    }
  }
}

/** Why the engine ended, as a Live close reason. */
function closeReasonOf(engineReason: string): CloseReason {
  if (/expired/.test(engineReason)) return 'expired';
  if (/live session closed|hung up|close requested/.test(engineReason)) return 'close_requested';
  if (/failed|disconnected|dropped|never connected/.test(engineReason)) return 'connection_lost';
  return 'remote_hangup';
}
