import type { ConnectClientEvent, ConnectServerEvent } from 'openai/resources/live/sideband/sideband';
import { toServerEvent, type DeltaType, type RealtimeClientEvent, type ServerEvent } from './events';
import type { RealtimeProtocol } from './protocol';

/**
 * The Live API's sideband (`…/live/sessions/{id}/attach`, typed by the `openai` package as `ConnectServerEvent` /
 * `ConnectClientEvent`) mapped onto the GA vocabulary the worker speaks, for sessions whose tools run under
 * Responses delegation:
 * - a delegated response's events arrive wrapped in `response.event`; `response.created` and its end
 *   (`response.completed` / `failed` / `incomplete` / `cancelled`) become GA `response.created` / `response.done`
 *   (so the one-response-at-a-time gate sees them), a finished `function_call` output item becomes GA
 *   `response.function_call_arguments.done` (so the tool path runs it once per call id);
 * - the transcript comes as `session.input_transcript.delta` / `session.output_transcript.delta` with no "done":
 *   consecutive deltas of one side are one item, complete when the other side speaks, a delegation starts or the
 *   session closes (`session.closed`), or after a pause in which nothing was added (`flush(idleForMs)`, asked by the
 *   worker's tick), as `conversation.item.input_audio_transcription.completed` and an assistant
 *   `response.output_item.done`. Item ids come from the session timeline (`start_ms` of the first delta), so a
 *   worker that takes over names the same items the same way;
 * - `session.started` is GA `session.created`; `session.updated` stays unknown (on Live only the delegation can
 *   change, and the page may not send anything: the Realtime session lock has nothing to guard).
 * Going out, a tool output (`conversation.item.create` of a `function_call_output`) is `response.item.create`, and
 * `response.create` asks the delegation to continue; everything else the worker might send on Realtime
 * (`session.update`, context messages, cancels) has no Live sideband counterpart and is not sent.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const s = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** Session-time silence (ms) after which the same speaker starts a new transcript item. */
const SAME_TURN_GAP_MS = 1500;

const RESPONSE_END = new Set(['response.completed', 'response.failed', 'response.incomplete', 'response.cancelled']);

type Side = 'user' | 'assistant';
interface Pending {
  side: Side;
  id: string;
  text: string;
}

function itemDone(p: Pending): ServerEvent[] {
  const text = p.text.trim();
  if (!text) return [];
  const wire =
    p.side === 'user'
      ? {
          type: 'conversation.item.input_audio_transcription.completed',
          event_id: `${p.id}_done`,
          item_id: p.id,
          content_index: 0,
          transcript: text,
        }
      : {
          type: 'response.output_item.done',
          event_id: `${p.id}_done`,
          response_id: '',
          output_index: 0,
          item: {
            id: p.id,
            type: 'message',
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_audio', transcript: text }],
          },
        };
  return [toServerEvent(wire)!];
}

/** A nested Responses event as GA events; unknown ones pass as `unknown` (never acted on). */
function responseEvent(outer: Obj): ServerEvent[] {
  const e = isObj(outer.event) ? outer.event : {};
  const type = s(e.type) ?? '';
  const response = isObj(e.response) ? e.response : {};
  const id = s(response.id) ?? '';
  if (type === 'response.created')
    return [toServerEvent({ type: 'response.created', event_id: s(outer.event_id), response: { ...response, id } })!];
  if (RESPONSE_END.has(type)) {
    const status = type.slice('response.'.length);
    return [
      toServerEvent({
        type: 'response.done',
        event_id: s(outer.event_id),
        response: { ...response, id, status: s(response.status) ?? status },
      })!,
    ];
  }
  const item = isObj(e.item) ? e.item : undefined;
  if (type === 'response.output_item.done' && item?.type === 'function_call') {
    return [
      toServerEvent({
        type: 'response.function_call_arguments.done',
        event_id: s(outer.event_id),
        response_id: s(e.response_id) ?? '',
        item_id: s(item.id) ?? '',
        output_index: typeof e.output_index === 'number' ? e.output_index : 0,
        call_id: s(item.call_id),
        name: s(item.name),
        arguments: s(item.arguments) ?? '',
      })!,
    ];
  }
  return [{ type: 'unknown', originalType: `response.event:${type}`, raw: outer }];
}

/**
 * One sideband connection's decoder: it holds the transcript item being spoken. `now` is wall-clock time, for
 * closing an item nobody has added to for a while (the service sends no "done").
 */
function createDecoder(now: () => number) {
  let pending: (Pending & { lastAt: number; endMs?: number }) | undefined;
  const used = new Set<string>();
  const close = (idleForMs?: number): ServerEvent[] => {
    const p = pending;
    if (!p || (idleForMs !== undefined && now() - p.lastAt < idleForMs)) return [];
    pending = undefined;
    return itemDone(p);
  };
  const delta = (side: Side, e: Obj): ServerEvent[] => {
    const start = typeof e.start_ms === 'number' ? e.start_ms : undefined;
    const gap = pending?.endMs !== undefined && start !== undefined ? start - pending.endMs : 0;
    // The other side speaks, or this one starts again after a long pause: the item so far is complete.
    const out = pending && (pending.side !== side || gap >= SAME_TURN_GAP_MS) ? close() : [];
    let text = s(e.delta) ?? '';
    if (!pending) {
      const base = `live_${side === 'user' ? 'in' : 'out'}_${start ?? 0}`;
      let id = base;
      for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
      used.add(id);
      pending = { side, id, text: '', lastAt: now() };
    } else if (gap > 0 && !/\s$/.test(pending.text) && !/^\s/.test(text)) {
      text = ` ${text}`; // two utterances of one turn ("One moment." … "It is shipped.")
    }
    pending.text += text;
    pending.lastAt = now();
    if (typeof e.end_ms === 'number') pending.endMs = e.end_ms;
    return out;
  };
  const decode = (wire: unknown): ServerEvent[] | undefined => {
    if (!isObj(wire)) return undefined;
    const type = s(wire.type) as ConnectServerEvent['type'] | undefined;
    switch (type) {
      case 'session.input_transcript.delta':
        return delta('user', wire);
      case 'session.output_transcript.delta':
        return delta('assistant', wire);
      case 'session.started':
        return [toServerEvent({ ...wire, type: 'session.created' })!];
      case 'session.delegation.created':
        return [...close(), { type: 'unknown', originalType: type, raw: wire }];
      case 'response.event':
        return responseEvent(wire);
      case 'session.closed':
        return [...close(), { type: 'unknown', originalType: type, raw: wire }];
      case 'error':
        return [toServerEvent(wire)!];
      default:
        return [{ type: 'unknown', originalType: type ?? '', raw: wire }];
    }
  };
  return { decode, flush: (idleForMs?: number) => close(idleForMs) };
}

function encode(event: RealtimeClientEvent): Record<string, unknown> | undefined {
  let out: ConnectClientEvent | undefined;
  if (event.type === 'conversation.item.create' && event.item.type === 'function_call_output') {
    out = {
      type: 'response.item.create',
      ...(event.event_id ? { event_id: event.event_id } : {}),
      item: { type: 'function_call_output', call_id: event.item.call_id, output: event.item.output },
    };
  } else if (event.type === 'response.create') {
    out = { type: 'response.create', ...(event.event_id ? { event_id: event.event_id } : {}) };
  }
  return out as Record<string, unknown> | undefined;
}

/** A Live protocol for one session (its decoder keeps the transcript item in progress). */
export function createLiveProtocol(opts: { now?: () => number } = {}): RealtimeProtocol {
  const decoder = createDecoder(opts.now ?? Date.now);
  return {
    name: 'live',
    encode,
    decode: decoder.decode,
    flush: decoder.flush,
    bindsCallByReference: false,
    acknowledgesDelegations: true,
    // Reflected model audio is the bulk of a Live sideband; transcript deltas are parsed (they are the transcript).
    deltas: new Map<string, DeltaType>([['session.output_audio.delta', 'response.output_audio.delta']]),
  };
}
