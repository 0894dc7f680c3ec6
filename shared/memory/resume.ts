import type { SessionRecord } from '../stores/sessions';

export type ResumeCheck = { ok: true } | { ok: false; reason: 'failed' | 'window_passed' };

/**
 * Whether a dropped call may reconnect to `row`'s session id. A session not yet ended (the drop is not
 * noticed yet) can always be rejoined; an ended one within `windowSeconds` of its end; a failed one never
 * (its context may be broken). Ownership and agent checks are the caller's (POST /api/sessions).
 */
export function canResume(
  row: Pick<SessionRecord, 'state' | 'endedAt' | 'createdAt'>,
  now: number,
  windowSeconds: number,
): ResumeCheck {
  if (row.state === 'failed') return { ok: false, reason: 'failed' };
  if (row.state !== 'ended' && row.state !== 'ending') return { ok: true };
  const since = row.endedAt ?? row.createdAt;
  return now - since <= windowSeconds * 1000 ? { ok: true } : { ok: false, reason: 'window_passed' };
}
