import type { SessionRow } from '../stores/sessions';

export type ResumeCheck = { ok: true } | { ok: false; reason: 'failed' | 'window_passed' | 'still_active' };

/**
 * Whether a dropped call may reconnect to `row`'s session id:
 * - `requested` (no call connected yet): yes, the new call simply registers;
 * - `ended`: within `windowSeconds` of its end (the lifecycle starts it over with the new call);
 * - `failed`: never (its context may be broken);
 * - any other active state (the service has not noticed the drop yet): not yet — `still_active`; the caller
 *   ends the old call and the client retries, by then the session is `ended` and resumes.
 * Ownership and agent checks are the caller's (POST /api/sessions).
 */
export function canResume(
  row: Pick<SessionRow, 'state' | 'endedAt' | 'createdAt'>,
  now: number,
  windowSeconds: number,
): ResumeCheck {
  switch (row.state) {
    case 'requested':
      return { ok: true };
    case 'failed':
      return { ok: false, reason: 'failed' };
    case 'ended': {
      const since = row.endedAt ?? row.createdAt;
      return now - since <= windowSeconds * 1000 ? { ok: true } : { ok: false, reason: 'window_passed' };
    }
    default:
      return { ok: false, reason: 'still_active' };
  }
}
