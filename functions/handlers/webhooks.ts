import type { HttpHandler } from '@azure/functions';
import { z } from 'zod';
import { HttpError } from '../../shared/http/errors';
import { viaProvider } from '../../shared/providers/http-errors';
import { handleIncomingCall, parseIncomingCall } from '../../shared/webhooks/incoming-call';
import { WebhookVerificationError } from '../../shared/webhooks/standard-webhooks';
import type { AppDeps } from '../deps';
import { ok } from '../edge';
import { callRef } from '../../shared/calls/binding';
import { logFailure } from '../../shared/telemetry/log';

const envelope = z.object({ id: z.string(), type: z.string().min(1), data: z.unknown() });

/**
 * POST /api/webhooks/realtime — Standard Webhooks over the raw body, exactly-once per `webhook-id`, for both
 * incoming-call events: Realtime's `realtime.call.incoming` and Live's `live.transport.incoming`.
 * Nothing is written before the signature, timestamp and payload are all valid.
 */
export const realtimeWebhookHandler =
  (
    deps: Pick<
      AppDeps,
      | 'config'
      | 'verifyWebhook'
      | 'deliveries'
      | 'provider'
      | 'agents'
      | 'toolGateway'
      | 'buildSessionConfig'
      | 'sessions'
      | 'lifecycle'
    >,
  ): HttpHandler =>
  async (req, ctx) => {
    if (!deps.verifyWebhook) throw new HttpError(503, 'webhooks_not_configured', 'WEBHOOK_SECRETS is not set');
    const raw = Buffer.from(await req.arrayBuffer());
    if (raw.byteLength > deps.config.MAX_BODY_BYTES)
      throw new HttpError(413, 'body_too_large', 'webhook body too large');
    let delivery;
    try {
      delivery = deps.verifyWebhook(raw, req.headers);
    } catch (err) {
      if (err instanceof WebhookVerificationError) throw new HttpError(err.status, err.code, err.message);
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'invalid_json', 'webhook body is not valid JSON');
    }
    const env = envelope.safeParse(json);
    if (!env.success) throw new HttpError(400, 'webhook_malformed', 'webhook body is not an event');
    if (env.data.type !== 'realtime.call.incoming' && env.data.type !== 'live.transport.incoming') {
      // Verified but not ours to act on: acknowledge so the sender stops retrying.
      return ok({ status: 'ignored', type: env.data.type });
    }
    const incoming = parseIncomingCall(json);
    if (!incoming)
      throw new HttpError(
        400,
        'webhook_malformed',
        `${env.data.type} without ${env.data.type === 'live.transport.incoming' ? 'data.session_id' : 'data.call_id'} / sip_headers`,
      );

    const claim = await deps.deliveries.claim(delivery.id, env.data.type);
    if (claim === 'processed') return ok({ status: 'duplicate', webhookId: delivery.id });
    if (claim === 'in_progress') {
      throw new HttpError(409, 'delivery_in_progress', 'this delivery is being processed', undefined, {
        'retry-after': '5',
      });
    }
    try {
      const outcome = await viaProvider(() =>
        handleIncomingCall(
          {
            ...deps,
            lifecycle: deps.lifecycle.port(ctx),
            model: deps.config.REALTIME_MODEL,
            surface: { event: incoming.surface, provider: deps.provider.name === 'live' ? 'live' : 'realtime' },
            log: (l) => ctx.warn(l),
          },
          incoming.event,
        ),
      );
      await deps.deliveries.complete(delivery.id, outcome.action);
      ctx.log(`webhook ${delivery.id}: call ${callRef(outcome.callId)} ${outcome.action}`);
      return ok({ status: outcome.action, ...outcome });
    } catch (err) {
      // Left retryable: the sender's next attempt claims it again.
      await deps.deliveries
        .fail(delivery.id, err instanceof Error ? err.message : String(err))
        .catch(logFailure((l) => ctx.log(l), `webhook ${delivery.id}: marking the delivery failed`));
      throw err;
    }
  };
