import type { ErrorEvent } from 'openai/resources/live/live';
import { newId } from '../protocol';

/** What a primary connection and an attached sideband may both send (`ClientEvent` ∩ `ConnectClientEvent`). */
const COMMON_CLIENT_EVENTS = [
  'session.update',
  'session.input_audio.mute',
  'session.input_audio.unmute',
  'session.output_audio.fixture.play',
  'session.instructions.append',
  'session.thinking.append',
  'session.commentary.append',
  'decision.create',
  'decision.item.create',
  'decision.item.delete',
  'response.item.create',
  'response.create',
  'session.close',
] as const;

/** Client events of a primary WebSocket (`ClientEvent` in the `openai` package): it starts and carries audio. */
export const PRIMARY_CLIENT_EVENTS = ['session.start', 'session.input_audio.append', ...COMMON_CLIENT_EVENTS] as const;

/** Client events an attached sideband may send (`ConnectClientEvent`): no start, no audio append; DTMF out. */
export const SIDEBAND_CLIENT_EVENTS = [...COMMON_CLIENT_EVENTS, 'transport.dtmf.send'] as const;

/**
 * What a WebRTC data channel can carry at most (`OpenAILiveWebRTC`'s event type): the sideband set without
 * fixture playback (WebSocket only) and DTMF (SIP sideband only). `allowed_client_events` narrows it further.
 */
export const DATA_CHANNEL_CLIENT_EVENTS: readonly string[] = SIDEBAND_CLIENT_EVENTS.filter(
  (t) => t !== 'session.output_audio.fixture.play' && t !== 'transport.dtmf.send',
);

/** Server events only a sideband observer receives (the types say "Delivered only to sideband observers"). */
export const SIDEBAND_ONLY_SERVER_EVENTS: ReadonlySet<string> = new Set([
  'transport.dtmf.received',
  'transport.dtmf.sent',
  'transport.ringing',
  'transport.answered',
  'transport.failed',
]);

export type LiveRole = 'primary' | 'datachannel' | 'sideband';

export function allowedClientEvents(role: LiveRole): readonly string[] {
  return role === 'primary'
    ? PRIMARY_CLIENT_EVENTS
    : role === 'sideband'
      ? SIDEBAND_CLIENT_EVENTS
      : DATA_CHANNEL_CLIENT_EVENTS;
}

/** A Live `error` event; `client_event_id` (both levels) names the command that caused it, when it had an id. */
export function liveError(
  code: string,
  message: string,
  opts: { param?: string; clientEventId?: string | null; type?: string } = {},
): ErrorEvent {
  const cid = opts.clientEventId ?? undefined;
  return {
    type: 'error',
    event_id: newId('event'),
    error: {
      type: opts.type ?? 'invalid_request_error',
      code,
      message,
      ...(opts.param ? { param: opts.param } : {}),
      ...(cid ? { client_event_id: cid } : {}),
    },
    ...(cid ? { client_event_id: cid } : {}),
  };
}

export type LiveClientMessage = { type: string; event_id?: string | null } & Record<string, unknown>;

/** Parses one client message for a connection of this role; a refusal is the error event to send back. */
export function parseLiveClientEvent(
  raw: string,
  role: LiveRole,
): { ok: true; event: LiveClientMessage } | { ok: false; error: ErrorEvent } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: liveError('invalid_json', 'The server could not parse the client event as JSON.') };
  }
  if (!json || typeof json !== 'object' || Array.isArray(json))
    return { ok: false, error: liveError('invalid_value', 'A client event must be a JSON object.') };
  const obj = json as Record<string, unknown>;
  const clientEventId = typeof obj.event_id === 'string' ? obj.event_id : null;
  if (typeof obj.type !== 'string')
    return {
      ok: false,
      error: liveError('missing_required_parameter', "Missing required parameter: 'type'.", {
        param: 'type',
        clientEventId,
      }),
    };
  const allowed = allowedClientEvents(role);
  if (!allowed.includes(obj.type))
    return {
      ok: false,
      error: liveError(
        'invalid_value',
        `Invalid value: '${obj.type.slice(0, 100)}'. Supported values are: ${allowed.map((t) => `'${t}'`).join(', ')}.`,
        { param: 'type', clientEventId },
      ),
    };
  return { ok: true, event: obj as LiveClientMessage };
}

/** `allowed_server_events` as configured: undefined (or `'all'`) lets everything through. */
export type ServerEventFilter = undefined | { type: string; response_event?: string }[];

export function serverEventAllowed(filter: ServerEventFilter, event: { type: string; event?: unknown }): boolean {
  if (!filter) return true;
  const nested =
    event.type === 'response.event' ? String((event.event as { type?: unknown } | undefined)?.type ?? '') : undefined;
  return filter.some((s) => s.type === event.type && (nested === undefined || s.response_event === nested));
}
