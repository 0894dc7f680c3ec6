import { HttpError } from '../http/errors';
import type { RateLimiter } from '../ratelimit/token-bucket';

/** 429 with Retry-After when the caller's bucket is empty. */
export function enforceRateLimit(limiter: RateLimiter, key: string): void {
  const d = limiter.take(key);
  if (d.allowed) return;
  throw new HttpError(
    429,
    'rate_limited',
    `too many requests; retry in ${d.retryAfterSeconds} s`,
    { retryAfterSeconds: d.retryAfterSeconds },
    { 'retry-after': String(d.retryAfterSeconds) },
  );
}
