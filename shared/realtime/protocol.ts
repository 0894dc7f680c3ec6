import type { ProviderName } from '../config/index';
import { DELTA_TYPES, toServerEvent, type DeltaType, type RealtimeClientEvent, type ServerEvent } from './events';
import { createLiveProtocol } from './live';
import { voiceLiveProtocol } from './voice-live';

/**
 * How one provider's wire protocol maps onto the GA vocabulary. Everything above the socket (worker, evals,
 * telemetry) sends and receives GA events; the protocol translates at the edge.
 */
export interface RealtimeProtocol {
  readonly name: 'ga' | 'voice-live' | 'live';
  /** A GA client event as this provider takes it; undefined when the provider has no such event. */
  encode(event: RealtimeClientEvent): Record<string, unknown> | undefined;
  /**
   * A decoded JSON frame from this provider as GA server events (unknown types pass as `unknown`): one, or several
   * when a frame completes something the provider never reports as such (Live's transcript items).
   */
  decode(wire: unknown): ServerEvent | readonly ServerEvent[] | undefined;
  /**
   * What a stateful decoder still holds (a transcript item being spoken): everything when the connection ends; with
   * `idleForMs`, only an item nothing was added to for that long (the speaker paused).
   */
  flush?(idleForMs?: number): readonly ServerEvent[];
  /**
   * The call id came from an untrusted page, so the sideband must prove the call is this session's (the session
   * reference in `session.created`). false where the backend itself created the session or the id came from a
   * verified webhook (Live). Default true.
   */
  readonly bindsCallByReference?: boolean;
  /** The service speaks its own "one moment" while a delegated tool runs (Live): the worker asks for none. */
  readonly acknowledgesDelegations?: boolean;
  /** The wire `type` of each high-volume delta, and the GA type it stands for: skippable before parsing. */
  readonly deltas: ReadonlyMap<string, DeltaType>;
}

export const gaProtocol: RealtimeProtocol = {
  name: 'ga',
  encode: (event) => event as unknown as Record<string, unknown>,
  decode: toServerEvent,
  deltas: new Map<string, DeltaType>(DELTA_TYPES.map((t) => [t, t])),
};

/**
 * The protocol a provider speaks: Voice Live its beta-shaped one, Live its own (a new instance per session: its
 * decoder holds state), every other provider GA Realtime.
 */
export function protocolFor(provider: ProviderName | undefined): RealtimeProtocol {
  if (provider === 'live') return createLiveProtocol();
  return provider === 'voice-live' ? voiceLiveProtocol : gaProtocol;
}

/** A decode result as a list. */
export const decodedList = (d: ServerEvent | readonly ServerEvent[] | undefined): readonly ServerEvent[] =>
  d === undefined ? [] : Array.isArray(d) ? d : [d as ServerEvent];

/** A regular expression that finds a skippable delta by its wire type in the head of a frame. */
export function deltaMatcher(protocol: RealtimeProtocol): RegExp {
  const names = [...protocol.deltas.keys()].map((t) => t.replace(/\./g, '\\.'));
  return new RegExp(`"type"\\s*:\\s*"(${names.join('|')})"`);
}
