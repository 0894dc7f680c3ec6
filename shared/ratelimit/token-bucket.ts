/**
 * Per-caller token bucket, in-process: on a Consumption plan each instance enforces its own budget, so the
 * effective limit is `perMinute × instances` — fine as abuse protection in front of an upstream that has its
 * own quota. One limit across instances: RATE_LIMIT_STORE=table (table-counter.ts, a transaction or two each).
 */
export interface RateLimitDecision {
  allowed: boolean;
  /** Whole seconds until one token is available again (≥ 1 when refused). */
  retryAfterSeconds: number;
  remaining: number;
}

export interface RateLimiter {
  take(key: string): RateLimitDecision;
}

/** A limiter whose state lives outside the process (RATE_LIMIT_STORE=table): deciding takes a round trip. */
export interface SharedRateLimiter {
  take(key: string): Promise<RateLimitDecision>;
}

export interface TokenBucketOptions {
  perMinute: number;
  /** Bucket size; defaults to perMinute (a full minute's budget may be spent at once). */
  burst?: number;
  /** Buckets kept; the least recently used are dropped past this (bounded memory under many callers). */
  maxKeys?: number;
  now?: () => number;
}

export function createTokenBucket(opts: TokenBucketOptions): RateLimiter {
  const capacity = opts.burst ?? opts.perMinute;
  const perMs = opts.perMinute / 60_000;
  const maxKeys = opts.maxKeys ?? 50_000;
  const now = opts.now ?? Date.now;
  // Map iteration order is insertion order: re-inserting on use makes the first key the least recently used.
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(key) {
      const t = now();
      const prev = buckets.get(key);
      const tokens = prev ? Math.min(capacity, prev.tokens + (t - prev.at) * perMs) : capacity;
      buckets.delete(key);
      if (tokens >= 1) {
        buckets.set(key, { tokens: tokens - 1, at: t });
        if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value as string);
        return { allowed: true, retryAfterSeconds: 0, remaining: Math.floor(tokens - 1) };
      }
      buckets.set(key, { tokens, at: t });
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)), remaining: 0 };
    },
  };
}
