import { createHmac, randomBytes } from 'node:crypto';

/** Standard Webhooks signing: HMAC-SHA256 over `id.timestamp.body` with the base64 key after `whsec_`. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

export interface Delivery {
  webhookId: string;
  attempts: { at: number; status?: number; error?: string }[];
  delivered: boolean;
}

export interface WebhookTarget {
  url: string;
  secret: string;
  /** Attempts in all (first + retries); the service retries for days, the emulator for a few seconds. */
  maxAttempts?: number;
  /** First retry delay; doubles each time. */
  backoffMs?: number;
  timeoutMs?: number;
}

/**
 * Sends one event the way the service does: same `webhook-id` on every attempt (so receivers can dedupe),
 * a fresh timestamp and signature per attempt, retried with exponential backoff on non-2xx or timeout.
 */
export async function deliverWebhook(
  target: WebhookTarget,
  event: unknown,
  delivery: Delivery,
  log: (l: string) => void,
  isStopped: () => boolean,
): Promise<void> {
  const body = JSON.stringify(event);
  const max = target.maxAttempts ?? 6;
  let wait = target.backoffMs ?? 250;
  for (let attempt = 1; attempt <= max && !isStopped(); attempt++) {
    const timestamp = Math.floor(Date.now() / 1000);
    const record: Delivery['attempts'][number] = { at: Date.now() };
    delivery.attempts.push(record);
    try {
      const res = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'OpenAI/1.0 (realtime-emulator)',
          'webhook-id': delivery.webhookId,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signWebhook(target.secret, delivery.webhookId, timestamp, body),
        },
        body,
        signal: AbortSignal.timeout(target.timeoutMs ?? 5000),
      });
      record.status = res.status;
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) {
        delivery.delivered = true;
        return;
      }
    } catch (err) {
      record.error = (err as Error).name === 'TimeoutError' ? 'timeout' : (err as Error).message;
    }
    log(
      `realtime emulator: webhook ${delivery.webhookId} attempt ${attempt} failed (${record.status ?? record.error})`,
    );
    if (attempt < max) await new Promise((r) => setTimeout(r, wait));
    wait *= 2;
  }
}

export const newWebhookId = () => `wh_${randomBytes(12).toString('hex')}`;
