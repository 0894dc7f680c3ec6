import { trace, context } from '@opentelemetry/api';
import { redact, redactString } from './redact';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose lines all carry `fields` (typically `{ sessionId }`). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  service: string;
  /** LOG_TRANSCRIPTS: include what was said; off by default. */
  logTranscripts?: boolean;
  /** Where JSON lines go; stdout/stderr by default (Container Apps and the Functions host collect them). */
  sink?: (level: LogLevel, line: string) => void;
  minLevel?: LogLevel;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const defaultSink = (level: LogLevel, line: string) => {
  if (level === 'error' || level === 'warn') process.stderr.write(line + '\n');
  else process.stdout.write(line + '\n');
};

/**
 * Structured JSON logs: one line per entry with the service, the session id when bound, and the active
 * trace/span ids (App Insights / Log Analytics join logs to traces on them). Every field goes through
 * `redact`, so callers can pass events and errors without scrubbing them first.
 */
export function createLogger(opts: LoggerOptions, bound: LogFields = {}): Logger {
  const sink = opts.sink ?? defaultSink;
  const min = ORDER[opts.minLevel ?? 'info'];
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const span = trace.getSpan(context.active())?.spanContext();
    const entry = {
      ts: new Date().toISOString(),
      level,
      service: opts.service,
      msg: redactString(msg),
      ...(span && span.traceId !== '00000000000000000000000000000000'
        ? { traceId: span.traceId, spanId: span.spanId }
        : {}),
      ...redact({ ...bound, ...fields }, { logTranscripts: opts.logTranscripts }),
    };
    let line: string;
    try {
      line = JSON.stringify(entry);
    } catch {
      line = JSON.stringify({
        ts: entry.ts,
        level,
        service: opts.service,
        msg: entry.msg,
        note: 'fields not serialisable',
      });
    }
    sink(level, line);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(opts, { ...bound, ...fields }),
  };
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what must not reach a log raw
const UNSAFE_IN_LOG = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * A caller-supplied value made safe for one log line: control characters (newlines included) become visible
 * escapes, so a `reason` with "\n" cannot forge a second, official-looking line; long values are cut.
 */
export function logField(value: unknown, max = 300): string {
  const text = String(value);
  const cut = text.length > max ? `${text.slice(0, max)}…` : text;
  return cut.replace(UNSAFE_IN_LOG, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A `.catch` handler for work whose failure must not fail the caller (best-effort writes, reports, clean-up):
 * it still leaves a line saying what failed, so nothing on the worker or lifecycle path fails silently.
 */
export const logFailure =
  (log: (line: string) => void, what: string) =>
  (err: unknown): void => {
    log(`${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  };
