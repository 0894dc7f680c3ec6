import type { SessionConfig } from './types';

/** Turn-detection tuning the Calls API refuses when a SIP call is accepted ("Unknown parameter"). */
export const ACCEPT_REFUSED_TURN_DETECTION = ['threshold', 'prefix_padding_ms', 'silence_duration_ms'] as const;

export interface AcceptSplit {
  /** What `calls/{id}/accept` takes: the session without the refused tuning. */
  acceptable: SessionConfig;
  /**
   * The tuning taken out, as a `session.update` body to send over the sideband once attached (its
   * `turn_detection` is the agent's whole one); undefined when nothing was taken out.
   */
  tuning?: Pick<SessionConfig, 'type' | 'audio'>;
}

/**
 * Splits a session config for a SIP accept. The Calls API answers 400 `Unknown parameter:
 * 'session.audio.input.turn_detection.threshold'` (and the same for prefix_padding_ms / silence_duration_ms),
 * so those go over the sideband after attach instead, where `session.update` takes them.
 */
export function splitForCallAccept(session: SessionConfig): AcceptSplit {
  const td = session.audio?.input?.turn_detection;
  if (!td || typeof td !== 'object') return { acceptable: session };
  const tuned = ACCEPT_REFUSED_TURN_DETECTION.filter(
    (f) => (td as unknown as Record<string, unknown>)[f] !== undefined,
  );
  if (!tuned.length) return { acceptable: session };
  const kept = Object.fromEntries(
    Object.entries(td).filter(([k]) => !(ACCEPT_REFUSED_TURN_DETECTION as readonly string[]).includes(k)),
  ) as typeof td;
  const acceptable: SessionConfig = {
    ...session,
    audio: { ...session.audio, input: { ...session.audio!.input, turn_detection: kept } },
  };
  return { acceptable, tuning: { type: 'realtime', audio: { input: { turn_detection: { ...td } } } } };
}
