import { z } from 'zod';
import { notFound } from '../../shared/http/errors';
import type { SessionRow, SessionStore } from '../../shared/stores/sessions';

/** Session ids are the UUIDs POST /api/sessions hands out; anything else cannot name a session. */
export const sessionIdParam = z.string().uuid();

/**
 * The caller's own session row. A missing session and another caller's look exactly the same (404), so
 * a caller learns nothing about sessions that are not theirs.
 */
export async function ownedSession(
  sessions: Pick<SessionStore, 'get'>,
  sessionId: string,
  userId: string,
): Promise<SessionRow & { etag: string }> {
  const row = await sessions.get(sessionId);
  if (!row || row.userId !== userId) throw notFound('session');
  return row;
}
