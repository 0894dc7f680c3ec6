import type { HttpHandler, HttpRequest } from '@azure/functions';
import { HttpError } from '../../shared/http/errors';
import type { LifecycleOperation } from '../../shared/lifecycle/operations';
import { heartbeatBodySchema, workerReportSchema } from '../../shared/worker-client/api';
import { bearerMatches } from '../../shared/worker-client/auth';
import type { AppDeps } from '../deps';
import { logField } from '../../shared/telemetry/log';
import { ok, readJson } from '../edge';

type InternalDeps = Pick<AppDeps, 'config' | 'lifecycle'>;

/** Worker callbacks carry the shared secret; anything else is a 401 naming nothing about the secret. */
function authorize(req: HttpRequest, secret: string) {
  if (!bearerMatches(req.headers.get('authorization'), secret)) {
    throw new HttpError(401, 'unauthorized', 'a valid worker bearer token is required');
  }
}

/** POST /api/internal/heartbeats — one request per worker tick; answers the sessions the worker should drop. */
export const internalHeartbeatsHandler =
  (deps: InternalDeps): HttpHandler =>
  async (req, ctx) => {
    authorize(req, deps.config.WORKER_AUTH_SECRET);
    const body = heartbeatBodySchema.parse(await readJson(req, deps.config.MAX_BODY_BYTES));
    const at = Date.now();
    const drop = await deps.lifecycle.heartbeats(ctx, body.workerId, body.sessionIds, at);
    return ok({ drop });
  };

/**
 * GET /api/internal/scale — the worker fleet's scale signal (a KEDA `metrics-api` scaler reads `liveSessions`):
 * sessions held by workers and how many workers hold them.
 */
export const internalScaleHandler =
  (deps: InternalDeps): HttpHandler =>
  async (req, ctx) => {
    authorize(req, deps.config.WORKER_AUTH_SECRET);
    return ok(await deps.lifecycle.scale(ctx));
  };

/** POST /api/internal/sessions/{sessionId}/report — the worker reports a lost socket, an ended call, a drain. */
export const internalReportHandler =
  (deps: InternalDeps): HttpHandler =>
  async (req, ctx) => {
    authorize(req, deps.config.WORKER_AUTH_SECRET);
    const sessionId = req.params.sessionId ?? '';
    if (!sessionId || sessionId.length > 128) throw new HttpError(400, 'bad_request', 'a session id is required');
    const report = workerReportSchema.parse(await readJson(req, deps.config.MAX_BODY_BYTES));
    const at = Date.now();
    // The lifecycle accepts the report only from the worker that holds the session (see the reducer).
    const op: LifecycleOperation =
      report.type === 'workerLost'
        ? { type: 'workerLost', workerId: report.workerId, reason: report.reason, at }
        : report.type === 'ended' && report.outcome
          ? { type: 'ended', workerId: report.workerId, reason: report.outcome, at }
          : {
              type: report.type,
              workerId: report.workerId,
              reason: `${report.reason} (worker ${report.workerId})`,
              at,
            };
    await deps.lifecycle.port(ctx).signal(sessionId, op);
    ctx.log(
      `worker ${logField(report.workerId)} reported ${report.type} for ${logField(sessionId)}: ${logField(report.reason)}`,
    );
    return ok({ accepted: true }, 202);
  };
