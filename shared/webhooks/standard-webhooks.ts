import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks (https://www.standardwebhooks.com), as the Realtime service signs `realtime.call.incoming`:
 * `webhook-signature: v1,<base64 HMAC-SHA256(secret, "{id}.{timestamp}.{raw body}")>` (space-separated list).
 * Hand-written over node:crypto rather than openai's `webhooks.verifySignature` because we need several
 * secrets (rotation), distinct error codes (malformed 400 vs forged/stale 401), and raw bytes, not a string.
 */

export const DEFAULT_TOLERANCE_SECONDS = 300;

export class WebhookVerificationError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly code: 'webhook_headers_missing' | 'webhook_malformed' | 'webhook_stale' | 'webhook_signature_invalid',
    message: string,
  ) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export interface VerifiedDelivery {
  id: string;
  timestamp: number;
}

interface HeaderSource {
  get(name: string): string | null;
}

/** `whsec_<base64>` secrets are base64 key bytes; anything else is used as UTF-8 (the openai SDK does the same). */
export function secretKey(secret: string): Buffer {
  return secret.startsWith('whsec_')
    ? Buffer.from(secret.slice('whsec_'.length), 'base64')
    : Buffer.from(secret, 'utf8');
}

export function signatureFor(secret: string, id: string, timestamp: number | string, body: Buffer | string): string {
  return createHmac('sha256', secretKey(secret))
    .update(`${id}.${timestamp}.`)
    .update(typeof body === 'string' ? Buffer.from(body, 'utf8') : body)
    .digest('base64');
}

/** Headers for a signed delivery (tests, bench, and anything that must call our webhook like the service). */
export function signWebhook(
  secret: string,
  id: string,
  timestamp: number,
  body: Buffer | string,
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${signatureFor(secret, id, timestamp, body)}`,
  };
}

export interface VerifierOptions {
  toleranceSeconds?: number;
  now?: () => number;
}

/** Verifies a delivery against any of the configured secrets; throws WebhookVerificationError otherwise. */
export function createWebhookVerifier(secrets: readonly string[], opts: VerifierOptions = {}) {
  const keys = secrets.filter(Boolean).map(secretKey);
  const tolerance = opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const now = opts.now ?? Date.now;
  return function verify(rawBody: Buffer, headers: HeaderSource): VerifiedDelivery {
    const id = headers.get('webhook-id');
    const ts = headers.get('webhook-timestamp');
    const sig = headers.get('webhook-signature');
    if (!id || !ts || !sig) {
      throw new WebhookVerificationError(
        400,
        'webhook_headers_missing',
        'webhook-id, webhook-timestamp and webhook-signature are required',
      );
    }
    if (!/^\d{1,12}$/.test(ts) || id.length > 256) {
      throw new WebhookVerificationError(
        400,
        'webhook_malformed',
        'webhook-timestamp must be Unix seconds and webhook-id at most 256 characters',
      );
    }
    const timestamp = Number(ts);
    const skew = Math.floor(now() / 1000) - timestamp;
    if (Math.abs(skew) > tolerance) {
      throw new WebhookVerificationError(
        401,
        'webhook_stale',
        `webhook timestamp is outside the ${tolerance} s tolerance`,
      );
    }
    const given = sig
      .split(' ')
      .filter((p) => p.startsWith('v1,'))
      .map((p) => Buffer.from(p.slice(3), 'base64'));
    const prefix = Buffer.from(`${id}.${ts}.`, 'utf8');
    for (const key of keys) {
      const expected = createHmac('sha256', key).update(prefix).update(rawBody).digest();
      // timingSafeEqual needs equal lengths; a length mismatch reveals nothing about the key.
      if (given.some((g) => g.length === expected.length && timingSafeEqual(g, expected))) return { id, timestamp };
    }
    throw new WebhookVerificationError(
      401,
      'webhook_signature_invalid',
      'no webhook signature matches a configured secret',
    );
  };
}

export type WebhookVerifier = ReturnType<typeof createWebhookVerifier>;
