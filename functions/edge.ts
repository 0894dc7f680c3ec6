import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { ZodError } from 'zod';
import { HttpError, errorBody, validationError } from '../shared/http/errors';
import { redactString } from '../shared/telemetry/redact';

export interface HttpOptions {
  corsOrigins: readonly string[];
  maxBodyBytes: number;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit => ({
  status,
  jsonBody: body,
  headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
});

export const ok = (body: unknown, status = 200, headers?: Record<string, string>) => json(status, body, headers);

function corsHeaders(req: HttpRequest, origins: readonly string[]): Record<string, string> {
  const origin = req.headers.get('origin');
  if (!origin || !(origins.includes('*') || origins.includes(origin))) return {};
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    'access-control-allow-headers': 'authorization, content-type, x-user-id',
    'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
    'access-control-max-age': '600',
    vary: 'origin',
  };
}

/**
 * Common edge behaviour for every handler: CORS allow-list, body size limit, JSON errors with a stable
 * `code`, and no stack traces or secrets in responses.
 */
export function http(options: HttpOptions, handler: HttpHandler): HttpHandler {
  return async (req: HttpRequest, ctx: InvocationContext) => {
    const cors = corsHeaders(req, options.corsOrigins);
    if (req.method === 'OPTIONS') return { status: 204, headers: cors };
    try {
      const length = Number(req.headers.get('content-length') ?? '0');
      if (length > options.maxBodyBytes) {
        throw new HttpError(413, 'body_too_large', `request body exceeds ${options.maxBodyBytes} bytes`);
      }
      const res = await handler(req, ctx);
      return { ...res, headers: { ...cors, ...(res.headers as Record<string, string> | undefined) } };
    } catch (err) {
      if (err instanceof HttpError) {
        return json(err.status, errorBody(err.code, err.message, err.details), { ...cors, ...err.headers });
      }
      if (err instanceof ZodError) {
        const e = validationError(err);
        return json(e.status, errorBody(e.code, e.message, e.details), cors);
      }
      // Upstream messages can echo keys or tokens: scrubbed before they reach the logs.
      ctx.error('unhandled error', redactString(err instanceof Error ? err.message : String(err)));
      return json(500, errorBody('internal', 'internal error'), cors);
    }
  };
}

/** `application/json`, with or without parameters (`; charset=utf-8`). */
const JSON_TYPE = /^application\/json\s*(;|$)/i;

/**
 * Reads a JSON body within the size limit; a malformed body is a 400, not a crash. Only `application/json`:
 * a `text/plain` POST is a "simple" request browsers send cross-origin without a preflight, so reading it as
 * JSON would let any site act on the API past the CORS allow-list.
 */
export async function readJson(req: HttpRequest, maxBytes: number): Promise<unknown> {
  if (!JSON_TYPE.test(req.headers.get('content-type') ?? ''))
    throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
  const text = await readText(req, maxBytes);
  if (text.trim() === '') throw new HttpError(400, 'body_required', 'a JSON body is required');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'invalid_json', 'body is not valid JSON');
  }
}

export async function readText(req: HttpRequest, maxBytes: number): Promise<string> {
  const buf = Buffer.from(await req.arrayBuffer());
  if (buf.byteLength > maxBytes) {
    throw new HttpError(413, 'body_too_large', `request body exceeds ${maxBytes} bytes`);
  }
  return buf.toString('utf8');
}

/** One route, one handler per method (the route table lists the methods; anything else never reaches here). */
export function byMethod(handlers: Partial<Record<string, HttpHandler>>): HttpHandler {
  return async (req, ctx) => {
    const h = handlers[req.method];
    if (!h) throw new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here`);
    return h(req, ctx);
  };
}
