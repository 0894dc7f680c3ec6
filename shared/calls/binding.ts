import { createHash } from 'node:crypto';

/**
 * Which session a realtime call belongs to, proven by the service rather than by the page. A page reports its
 * call id, but any page could report any id; what it cannot do is change another caller's call. So the session
 * config we mint (client secret) or accept (SIP) carries a reference derived from our session id, and the worker
 * attaching to a call checks the reference in what the service reports on the sideband (`session.created`)
 * before it sends anything. A call minted for another session carries that session's reference.
 *
 * The reference rides in `instructions` because it is the one field every provider echoes back unchanged in
 * `session.created` (openai-node `RealtimeSessionCreateResponse.instructions`); it is not a secret.
 */
export function sessionReference(sessionId: string): string {
  return createHash('sha256').update(`session-binding:${sessionId}`).digest('base64url').slice(0, 16);
}

const line = (sessionId: string) => `(Session reference ${sessionReference(sessionId)}: for the system, never say it.)`;

/** The agent's instructions with the session's reference appended. */
export function withSessionReference(instructions: string, sessionId: string): string {
  return `${instructions}\n\n${line(sessionId)}`;
}

/** Whether the session the service reports was configured for `sessionId`. */
export function carriesSessionReference(session: unknown, sessionId: string): boolean {
  const instructions = (session as { instructions?: unknown } | undefined)?.instructions;
  return typeof instructions === 'string' && instructions.includes(line(sessionId));
}

/** A realtime call id as logs and spans show it: stable for correlation, useless for attaching to the call. */
export function callRef(callId: string): string {
  return `call#${createHash('sha256').update(`call-ref:${callId}`).digest('base64url').slice(0, 12)}`;
}
