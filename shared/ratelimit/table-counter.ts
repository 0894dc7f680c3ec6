import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { RateLimitDecision, SharedRateLimiter } from './token-bucket';

export interface TableCounterOptions {
  table: TableClient;
  perMinute: number;
  now?: () => number;
  /** ETag conflicts retried before the request is let through (a hot key under contention). */
  maxAttempts?: number;
}

const WINDOW_MS = 60_000;

/**
 * One limit for every instance: a fixed one-minute window counted in a Table row per caller and minute
 * (insert the first request, ETag-checked increments after). Costs one or two transactions per request, which
 * is why it is a setting (RATE_LIMIT_STORE=table) and not the default. Storage trouble lets the request
 * through: the limiter protects an upstream with its own quota and must not turn an outage into a 5xx.
 */
export function createTableRateLimiter(opts: TableCounterOptions): SharedRateLimiter {
  const now = opts.now ?? Date.now;
  const attempts = opts.maxAttempts ?? 4;
  return {
    async take(key): Promise<RateLimitDecision> {
      const t = now();
      const window = Math.floor(t / WINDOW_MS);
      const retryAfterSeconds = Math.max(1, Math.ceil(((window + 1) * WINDOW_MS - t) / 1000));
      const partitionKey = createHash('sha256').update(key).digest('base64url').slice(0, 32);
      const rowKey = String(window);
      for (let i = 0; i < attempts; i++) {
        try {
          const row = await opts.table
            .getEntity<{ count: number }>(partitionKey, rowKey)
            .catch((err: { statusCode?: number }) => {
              if (err.statusCode === 404) return undefined;
              throw err;
            });
          if (!row) {
            await opts.table.createEntity({ partitionKey, rowKey, count: 1, expiresAt: new Date(t + 2 * WINDOW_MS) });
            return { allowed: true, retryAfterSeconds: 0, remaining: opts.perMinute - 1 };
          }
          if (row.count >= opts.perMinute) return { allowed: false, retryAfterSeconds, remaining: 0 };
          await opts.table.updateEntity({ partitionKey, rowKey, count: row.count + 1 }, 'Merge', { etag: row.etag });
          return { allowed: true, retryAfterSeconds: 0, remaining: opts.perMinute - row.count - 1 };
        } catch (err) {
          const status = (err as { statusCode?: number }).statusCode;
          // 409: another instance inserted the row first; 412: it counted meanwhile. Read again.
          if (status === 409 || status === 412) continue;
          return { allowed: true, retryAfterSeconds: 0, remaining: 0 };
        }
      }
      return { allowed: true, retryAfterSeconds: 0, remaining: 0 };
    },
  };
}
