import type { HttpHandler, HttpMethod } from '@azure/functions';
import type { AppDeps } from './deps';
import { getAgentHandler, listAgentsHandler } from './handlers/agents';
import { healthHandler } from './handlers/health';
import { negotiateHandler, sessionOwnerCheck } from './handlers/negotiate';
import { internalHeartbeatsHandler, internalReportHandler, internalScaleHandler } from './handlers/internal-lifecycle';
import { deleteHistoryHandler } from './handlers/history';
import { getSessionHandler } from './handlers/get-session';
import { registerCallHandler } from './handlers/session-call';
import { startSessionHandler } from './handlers/sessions';
import { realtimeWebhookHandler } from './handlers/webhooks';
import {
  createAgentHandler,
  listManagedAgentsHandler,
  retireAgentHandler,
  updateAgentHandler,
} from './handlers/operator-agents';
import { hangupSessionHandler, listLiveSessionsHandler } from './handlers/operator-sessions';
import { mcpHandler } from './mcp/handler';
import { byMethod, http } from './edge';
import { traceRoute } from './trace-route';

export type AuthLevel = 'anonymous' | 'function' | 'admin';

/** One row of the route table: registered with `app.http` in Azure and served by the local runner. */
export interface Route {
  name: string;
  methods: HttpMethod[];
  /** Azure Functions route template, relative to /api: `sessions/{id}/call`. */
  route: string;
  authLevel: AuthLevel;
  handler: HttpHandler;
  /** The handler needs the Durable client binding (signals entities, starts orchestrations). */
  durableClient?: boolean;
}

/**
 * The one route table. `functions/index.ts` registers it with `app.http`; the local runner
 * (emulators/functions-host) serves exactly the same handlers over node:http.
 */
export function buildRoutes(deps: AppDeps): Route[] {
  const wrap = (h: Route['handler']) =>
    http({ corsOrigins: deps.config.CORS_ALLOWED_ORIGINS, maxBodyBytes: deps.config.MAX_BODY_BYTES }, h);
  const routes: Route[] = [
    { name: 'health', methods: ['GET'], route: 'health', authLevel: 'anonymous', handler: healthHandler(deps) },
    {
      name: 'agents-list',
      methods: ['GET'],
      route: 'agents',
      authLevel: 'anonymous',
      handler: listAgentsHandler(deps),
    },
    {
      name: 'agents-get',
      methods: ['GET'],
      route: 'agents/{id}',
      authLevel: 'anonymous',
      handler: getAgentHandler(deps),
    },
    // `function` level: Azure requires a function key (x-functions-key); the local runner only checks one when
    // it is given a key, so locally the endpoint is open on 127.0.0.1. GET/DELETE get a JSON-RPC 405.
    { name: 'mcp', methods: ['POST', 'GET', 'DELETE'], route: 'mcp', authLevel: 'function', handler: mcpHandler(deps) },
    {
      name: 'sessions-start',
      methods: ['POST'],
      route: 'sessions',
      authLevel: 'anonymous',
      handler: startSessionHandler(deps),
      durableClient: true,
    },
    {
      name: 'sessions-get',
      methods: ['GET'],
      route: 'sessions/{id}',
      authLevel: 'anonymous',
      handler: getSessionHandler(deps),
    },
    {
      name: 'sessions-call',
      methods: ['POST'],
      route: 'sessions/{id}/call',
      authLevel: 'anonymous',
      handler: registerCallHandler(deps),
      durableClient: true,
    },
    // Anonymous at the host: the Standard Webhooks signature is the authentication.
    {
      name: 'webhooks-realtime',
      methods: ['POST'],
      route: 'webhooks/realtime',
      authLevel: 'anonymous',
      handler: realtimeWebhookHandler(deps),
      durableClient: true,
    },
    {
      name: 'negotiate',
      methods: ['GET'],
      route: 'negotiate',
      authLevel: 'anonymous',
      handler: negotiateHandler({ webPubSub: deps.webPubSub, authorizeSessionOwner: sessionOwnerCheck(deps) }),
    },
    {
      name: 'history-delete',
      methods: ['DELETE'],
      route: 'users/me/history',
      authLevel: 'anonymous',
      handler: deleteHistoryHandler(deps),
      durableClient: true,
    },
    // Operators (the OPERATOR_APP_ROLE app role); every call is audited in Table `operatoraudit`.
    {
      name: 'operator-sessions-list',
      methods: ['GET'],
      route: 'operator/sessions',
      authLevel: 'anonymous',
      handler: listLiveSessionsHandler(deps),
    },
    {
      name: 'operator-sessions-hangup',
      methods: ['POST'],
      route: 'operator/sessions/{id}/hangup',
      authLevel: 'anonymous',
      handler: hangupSessionHandler(deps),
      durableClient: true,
    },
    {
      name: 'operator-agents',
      methods: ['GET', 'POST'],
      route: 'operator/agents',
      authLevel: 'anonymous',
      handler: byMethod({ GET: listManagedAgentsHandler(deps), POST: createAgentHandler(deps) }),
    },
    {
      name: 'operator-agents-change',
      methods: ['PUT', 'DELETE'],
      route: 'operator/agents/{id}',
      authLevel: 'anonymous',
      handler: byMethod({ PUT: updateAgentHandler(deps), DELETE: retireAgentHandler(deps) }),
    },
    // Worker → lifecycle callbacks: anonymous at the host, authenticated by the WORKER_AUTH_SECRET bearer.
    {
      name: 'internal-heartbeats',
      methods: ['POST'],
      route: 'internal/heartbeats',
      authLevel: 'anonymous',
      handler: internalHeartbeatsHandler(deps),
      durableClient: true,
    },
    {
      name: 'internal-scale',
      methods: ['GET'],
      route: 'internal/scale',
      authLevel: 'anonymous',
      handler: internalScaleHandler(deps),
      durableClient: true,
    },
    {
      name: 'internal-report',
      methods: ['POST'],
      route: 'internal/sessions/{sessionId}/report',
      authLevel: 'anonymous',
      handler: internalReportHandler(deps),
      durableClient: true,
    },
  ];
  return routes.map((r) => ({
    ...r,
    // Browsers preflight cross-origin POSTs; OPTIONS is answered by the CORS wrapper.
    methods: r.methods.includes('OPTIONS') ? r.methods : [...r.methods, 'OPTIONS'],
    // A SERVER span per request (continuing the caller's traceparent), around the edge behaviour.
    handler: traceRoute(r, wrap(r.handler)),
  }));
}
