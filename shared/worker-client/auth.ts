import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Bearer check for the worker API and the worker's callbacks. Both sides are hashed first so the comparison
 * is constant-time whatever the lengths (timingSafeEqual needs equal lengths).
 */
export function bearerMatches(header: string | null | undefined, secret: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header?.trim() ?? '');
  if (!m) return false;
  const a = createHash('sha256').update(m[1]!).digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b);
}

export const bearer = (secret: string) => `Bearer ${secret}`;
