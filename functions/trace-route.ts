import type { HttpHandler, HttpRequest, HttpResponseInit } from '@azure/functions';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { extractTraceContext, withSpan } from '../shared/telemetry/tracing';

/**
 * A SERVER span around one HTTP function, continuing the caller's trace from `traceparent` (the worker's
 * callbacks, MCP calls from the worker's gateway). Named by route template, never by the concrete path,
 * so span names stay low-cardinality; the session id (route `{id}`/`{sessionId}`) becomes an attribute.
 */
export function traceRoute(route: { name: string; route: string }, handler: HttpHandler): HttpHandler {
  return async (req: HttpRequest, ctx) => {
    if (req.method === 'OPTIONS') return handler(req, ctx);
    const parent = extractTraceContext(req.headers);
    const params = (req.params ?? {}) as Record<string, string | undefined>;
    return withSpan(
      `${req.method} /api/${route.route}`,
      {
        'http.request.method': req.method,
        'http.route': `/api/${route.route}`,
        'faas.name': route.name,
        'session.id': params.sessionId ?? (route.route.startsWith('sessions/') ? params.id : undefined),
      },
      async (span) => {
        const res: HttpResponseInit = await handler(req, ctx);
        const status = res.status ?? 200;
        span.setAttribute('http.response.status_code', status);
        if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${status}` });
        return res;
      },
      { parent, kind: SpanKind.SERVER },
    );
  };
}
