import {
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Attributes,
  type AttributeValue,
  type Context,
  type Span,
  type TextMapGetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { redactString } from './redact';

export const TRACER_NAME = 'realtime-voice-agents';

/** The app's tracer. The API's proxy provider means this works before and after initTelemetry. */
export const tracer = () => trace.getTracer(TRACER_NAME);

/**
 * A W3C propagator used directly (not through the global one) so that traceparent headers flow even when the
 * distro is off or another library registered a different global propagator.
 */
const w3c = new W3CTraceContextPropagator();

export type SpanAttrs = Record<string, AttributeValue | undefined | null>;

/** Drops empty values and scrubs strings: attributes are exported just like logs. */
export function cleanAttributes(attrs: SpanAttrs | undefined): Attributes {
  const out: Attributes = {};
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null) continue;
    out[k] = typeof v === 'string' ? redactString(v) : v;
  }
  return out;
}

export interface WithSpanOptions {
  kind?: SpanKind;
  /** Parent context, e.g. from extractTraceContext; the active context when unset. */
  parent?: Context;
}

/**
 * Runs `fn` inside a new active span; records a thrown error (message scrubbed) and rethrows it. Spans nest
 * through the async context, so calls made inside `fn` (HTTP, MCP) become children.
 */
export async function withSpan<T>(
  name: string,
  attrs: SpanAttrs | undefined,
  fn: (span: Span) => Promise<T> | T,
  opts: WithSpanOptions = {},
): Promise<T> {
  const parent = opts.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: opts.kind ?? SpanKind.INTERNAL }, parent);
  // Scrubbing attributes costs microseconds on hot paths (every tool call): only for spans that are exported.
  if (span.isRecording()) span.setAttributes(cleanAttributes(attrs));
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (err) {
    const message = redactString(err instanceof Error ? err.message : String(err));
    span.recordException({ name: err instanceof Error ? err.name : 'Error', message });
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    throw err;
  } finally {
    span.end();
  }
}

/** Marks a span failed without throwing (e.g. a tool result with isError). */
export function markSpanError(span: Span, message: string): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: redactString(message) });
}

/** Adds `traceparent` (and `tracestate`) for the given (default: active) context to a header object. */
export function injectTraceHeaders<H extends Record<string, string>>(
  headers: H = {} as H,
  ctx: Context = context.active(),
): H & { traceparent?: string; tracestate?: string } {
  w3c.inject(ctx, headers, { set: (carrier, key, value) => ((carrier as Record<string, string>)[key] = value) });
  // A globally registered propagator (e.g. baggage) may add more; harmless when it is the no-op.
  propagation.inject(ctx, headers);
  return headers;
}

/** Header carriers we accept: plain objects (node http, ws upgrade) or fetch-style Headers. */
export type HeaderCarrier = Record<string, string | string[] | undefined> | { get(name: string): string | null };

const getter: TextMapGetter<HeaderCarrier> = {
  keys: (carrier) =>
    'get' in carrier && typeof carrier.get === 'function' ? ['traceparent', 'tracestate'] : Object.keys(carrier),
  get: (carrier, key) => {
    if ('get' in carrier && typeof carrier.get === 'function') return carrier.get(key) ?? undefined;
    const rec = carrier as Record<string, string | string[] | undefined>;
    const found = Object.keys(rec).find((k) => k.toLowerCase() === key);
    return found === undefined ? undefined : rec[found];
  },
};

/** The remote parent carried by `traceparent` (invalid or missing headers give the unchanged base context). */
export function extractTraceContext(headers: HeaderCarrier, base: Context = context.active()): Context {
  return w3c.extract(base, headers, getter);
}

/** The active span's `traceparent` value, for storing with a session so later hops can join its trace. */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  return injectTraceHeaders({}, ctx).traceparent;
}

/** A context whose remote parent is a stored `traceparent` value (see currentTraceparent). */
export function contextFromTraceparent(traceparent: string | undefined, base: Context = context.active()): Context {
  return traceparent ? extractTraceContext({ traceparent }, base) : base;
}

export { SpanKind, SpanStatusCode };
export type { Span, Context };
