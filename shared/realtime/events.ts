import type { RealtimeClientEvent, RealtimeServerEvent } from 'openai/resources/realtime/realtime';

/**
 * The one event vocabulary of the backend: GA Realtime's, as the `openai` package types it. The worker, the evals
 * and telemetry speak it whatever the provider; a provider with another wire shape (Voice Live) is mapped onto
 * it by a protocol adapter (`./protocol`).
 */
export type { RealtimeClientEvent, RealtimeServerEvent };
export type ServerEventType = RealtimeServerEvent['type'];
export type ServerEventOf<T extends ServerEventType> = Extract<RealtimeServerEvent, { type: T }>;

/**
 * A server event whose type the GA vocabulary does not name (a newer service, a provider extension). It is
 * passed along, never acted on: `type` is a fixed tag so a `switch` over known types still narrows.
 */
export interface UnknownServerEvent {
  type: 'unknown';
  /** The event's own `type`, or '' when it had none. */
  originalType: string;
  raw: Record<string, unknown>;
}

export type ServerEvent = RealtimeServerEvent | UnknownServerEvent;

/** Every GA server event type; typed as a Record so a new type in the SDK fails the type check here. */
const KNOWN_TYPES: Record<ServerEventType, true> = {
  'conversation.created': true,
  'conversation.item.created': true,
  'conversation.item.deleted': true,
  'conversation.item.input_audio_transcription.completed': true,
  'conversation.item.input_audio_transcription.delta': true,
  'conversation.item.input_audio_transcription.failed': true,
  'conversation.item.input_audio_transcription.segment': true,
  'conversation.item.retrieved': true,
  'conversation.item.truncated': true,
  'conversation.item.added': true,
  'conversation.item.done': true,
  error: true,
  'input_audio_buffer.cleared': true,
  'input_audio_buffer.committed': true,
  'input_audio_buffer.dtmf_event_received': true,
  'input_audio_buffer.speech_started': true,
  'input_audio_buffer.speech_stopped': true,
  'input_audio_buffer.timeout_triggered': true,
  'rate_limits.updated': true,
  'response.output_audio.delta': true,
  'response.output_audio.done': true,
  'response.output_audio_transcript.delta': true,
  'response.output_audio_transcript.done': true,
  'response.content_part.added': true,
  'response.content_part.done': true,
  'response.created': true,
  'response.done': true,
  'response.function_call_arguments.delta': true,
  'response.function_call_arguments.done': true,
  'response.output_item.added': true,
  'response.output_item.done': true,
  'response.output_text.delta': true,
  'response.output_text.done': true,
  'session.created': true,
  'session.updated': true,
  'output_audio_buffer.started': true,
  'output_audio_buffer.stopped': true,
  'output_audio_buffer.cleared': true,
  'mcp_list_tools.in_progress': true,
  'mcp_list_tools.completed': true,
  'mcp_list_tools.failed': true,
  'response.mcp_call_arguments.delta': true,
  'response.mcp_call_arguments.done': true,
  'response.mcp_call.in_progress': true,
  'response.mcp_call.completed': true,
  'response.mcp_call.failed': true,
};

export const isServerEventType = (type: string): type is ServerEventType => Object.hasOwn(KNOWN_TYPES, type);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Classifies a decoded JSON value. A known type is trusted to have the SDK's shape only as far as the type
 * system goes: consumers still read optional fields with care (`str` below), because a service may
 * omit what the SDK declares.
 */
export function toServerEvent(value: unknown): ServerEvent | undefined {
  if (!isRecord(value)) return undefined;
  const type = typeof value.type === 'string' ? value.type : '';
  if (type && isServerEventType(type)) return value as unknown as RealtimeServerEvent;
  return { type: 'unknown', originalType: type, raw: value };
}

/** Parses one WebSocket text frame; undefined for anything that is not a JSON object. */
export function parseServerEvent(text: string): ServerEvent | undefined {
  try {
    return toServerEvent(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** A delta the consumer skipped without parsing: only its (GA) type is known, which is all timing needs. */
export interface SkippedDelta {
  type: DeltaType;
  skipped: true;
}

/** What an observer of a session's events (telemetry, accounting) is given. */
export type ObservedEvent = ServerEvent | SkippedDelta;

/** The event's wire type, for logs and telemetry (an unknown event reports its own). */
export const eventTypeOf = (e: ServerEvent): string => (e.type === 'unknown' ? e.originalType : e.type);

/** A string field the SDK declares but a service may leave out or send as something else. */
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The high-volume deltas: the bulk of sideband traffic and nothing the worker acts on. A consumer can skip
 * parsing them by their type alone.
 */
export const DELTA_TYPES = [
  'response.output_audio.delta',
  'response.output_audio_transcript.delta',
  'response.output_text.delta',
  'response.function_call_arguments.delta',
  'conversation.item.input_audio_transcription.delta',
] as const satisfies readonly ServerEventType[];
export type DeltaType = (typeof DELTA_TYPES)[number];
