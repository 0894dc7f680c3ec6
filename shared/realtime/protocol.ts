import type { ProviderName } from '../config/index';
import { DELTA_TYPES, toServerEvent, type DeltaType, type RealtimeClientEvent, type ServerEvent } from './events';
import { voiceLiveProtocol } from './voice-live';

/**
 * How one provider's wire protocol maps onto the GA vocabulary. Everything above the socket (worker, evals,
 * telemetry) sends and receives GA events; the protocol translates at the edge.
 */
export interface RealtimeProtocol {
  readonly name: 'ga' | 'voice-live';
  /** A GA client event as this provider takes it; undefined when the provider has no such event. */
  encode(event: RealtimeClientEvent): Record<string, unknown> | undefined;
  /** A decoded JSON frame from this provider as a GA server event (unknown types pass as `unknown`). */
  decode(wire: unknown): ServerEvent | undefined;
  /** The wire `type` of each high-volume delta, and the GA type it stands for: skippable before parsing. */
  readonly deltas: ReadonlyMap<string, DeltaType>;
}

export const gaProtocol: RealtimeProtocol = {
  name: 'ga',
  encode: (event) => event as unknown as Record<string, unknown>,
  decode: toServerEvent,
  deltas: new Map<string, DeltaType>(DELTA_TYPES.map((t) => [t, t])),
};

/** The protocol a provider speaks: Voice Live its beta-shaped one, every other provider GA Realtime. */
export function protocolFor(provider: ProviderName | undefined): RealtimeProtocol {
  return provider === 'voice-live' ? voiceLiveProtocol : gaProtocol;
}

/** A regular expression that finds a skippable delta by its wire type in the head of a frame. */
export function deltaMatcher(protocol: RealtimeProtocol): RegExp {
  const names = [...protocol.deltas.keys()].map((t) => t.replace(/\./g, '\\.'));
  return new RegExp(`"type"\\s*:\\s*"(${names.join('|')})"`);
}
