/**
 * Observability for the Function app and the worker: OpenTelemetry set up once per process (Azure Monitor
 * when configured, console/OTLP locally, off otherwise), span helpers with W3C propagation, the app's
 * metric instruments, per-session sideband telemetry and redacted structured logs.
 */
export {
  initTelemetry,
  currentTelemetry,
  type Telemetry,
  type TelemetryConfig,
  type TelemetryMode,
  type TelemetryOptions,
} from './init';
export {
  tracer,
  withSpan,
  markSpanError,
  injectTraceHeaders,
  extractTraceContext,
  currentTraceparent,
  contextFromTraceparent,
  cleanAttributes,
  SpanKind,
  SpanStatusCode,
  TRACER_NAME,
  type HeaderCarrier,
  type SpanAttrs,
} from './tracing';
export {
  voiceMetrics,
  METRIC_NAMES,
  recordSessionStarted,
  recordSessionFailed,
  recordSessionActive,
  recordAttachTime,
  recordTurnLatency,
  recordToolCall,
  recordReconnect,
  recordJudgeScore,
  recordUsage,
  type RealtimeUsage,
  type VoiceMetrics,
} from './metrics';
export { SessionTelemetry, type SessionIds } from './session';
export { TurnLatencyTracker, percentile, type TurnLatency } from './turn-latency';
export { createLogger, type Logger, type LogFields, type LogLevel } from './log';
export { redact, redactString, redactHeaders, REDACTED } from './redact';
