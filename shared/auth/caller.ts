import { HttpError } from '../http/errors';
import type { RateLimiter, SharedRateLimiter } from '../ratelimit/token-bucket';
import type { Caller } from './index';

interface HeaderSource {
  get(name: string): string | null;
}

/**
 * What a caller's budget is keyed on: never something the caller picks. A verified user id (Entra, Easy Auth)
 * is the user's own; in dev mode `x-user-id` is a free choice, so the key is the connection's address — the
 * last `x-forwarded-for` hop, which the nearest proxy (the local runner, the platform front end) appends.
 */
export function rateLimitKey(caller: Caller, headers: HeaderSource): string {
  if (caller.via !== 'dev') return `user:${caller.userId}`;
  const hops = (headers.get('x-forwarded-for') ?? '').split(',').map((h) => h.trim());
  const last = hops[hops.length - 1] || 'unknown';
  // "203.0.113.5:51234" (Azure adds the port) and "[::1]:443" keep only the address.
  return `addr:${last.replace(/^\[([^\]]+)\](:\d+)?$/, '$1').replace(/^([\d.]+):\d+$/, '$1')}`;
}

/** 429 with Retry-After when the caller's budget is spent. */
export async function enforceRateLimit(limiter: RateLimiter | SharedRateLimiter, key: string): Promise<void> {
  const d = await limiter.take(key);
  if (d.allowed) return;
  throw new HttpError(
    429,
    'rate_limited',
    `too many requests; retry in ${d.retryAfterSeconds} s`,
    { retryAfterSeconds: d.retryAfterSeconds },
    { 'retry-after': String(d.retryAfterSeconds) },
  );
}
