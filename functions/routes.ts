import type { AppDeps } from './deps';
import { healthHandler } from './handlers/health';
import { http, type Route } from './route';

/**
 * The one route table. `functions/index.ts` registers it with `app.http`; the local runner
 * (emulators/functions-host) serves exactly the same handlers over node:http.
 */
export function buildRoutes(deps: AppDeps): Route[] {
  const wrap = (h: Route['handler']) =>
    http({ corsOrigins: deps.config.CORS_ALLOWED_ORIGINS, maxBodyBytes: deps.config.MAX_BODY_BYTES }, h);
  const routes: Route[] = [
    { name: 'health', methods: ['GET'], route: 'health', authLevel: 'anonymous', handler: healthHandler(deps) },
  ];
  return routes.map((r) => ({
    ...r,
    // Browsers preflight cross-origin POSTs; OPTIONS is answered by the CORS wrapper.
    methods: r.methods.includes('OPTIONS') ? r.methods : [...r.methods, 'OPTIONS'],
    handler: wrap(r.handler),
  }));
}
