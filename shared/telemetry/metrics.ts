import { metrics, type Counter, type Histogram, type MeterProvider, type UpDownCounter } from '@opentelemetry/api';
import { TRACER_NAME } from './tracing';

/**
 * The app's metric instruments. Names follow OTel conventions (dotted, unit in `unit`); attributes are low
 * cardinality (agent, transport, tool, outcome) — never a session id, which belongs on spans and logs.
 */
export interface VoiceMetrics {
  sessionsActive: UpDownCounter;
  sessionsStarted: Counter;
  sessionsFailed: Counter;
  /** Webhook/accept → worker attached (ms). */
  attachTime: Histogram;
  /** speech stopped → first audio delta (ms). */
  turnLatency: Histogram;
  toolLatency: Histogram;
  toolErrors: Counter;
  tokensIn: Counter;
  tokensOut: Counter;
  /** Cached input tokens (a part of tokensIn), by modality. */
  tokensCached: Counter;
  /** USD a call has cost, added as it accrues (attributes: agent, model): sums per agent and day. */
  sessionCost: Counter;
  /** Calls whose cost passed COST_ALERT_USD. */
  costAlerts: Counter;
  reconnects: Counter;
  /** A page changed the agent's session settings: restored, or the call hung up. */
  sessionOverrides: Counter;
  judgeScore: Histogram;
  /** Worker → lifecycle reports (ended, failed, workerLost) that did not arrive. */
  reportFailures: Counter;
}

export const METRIC_NAMES = {
  sessionsActive: 'voice.sessions.active',
  sessionsStarted: 'voice.sessions.started',
  sessionsFailed: 'voice.sessions.failed',
  attachTime: 'voice.session.attach_time',
  turnLatency: 'voice.turn.latency',
  toolLatency: 'voice.tool.latency',
  toolErrors: 'voice.tool.errors',
  tokensIn: 'voice.tokens.input',
  tokensOut: 'voice.tokens.output',
  tokensCached: 'voice.tokens.cached',
  sessionCost: 'voice.session.cost',
  costAlerts: 'voice.session.cost_alerts',
  reconnects: 'voice.sideband.reconnects',
  sessionOverrides: 'voice.session.overrides',
  judgeScore: 'voice.judge.score',
  reportFailures: 'voice.worker.report_failures',
} as const;

// The metrics API has no proxy provider: instruments made before initTelemetry stay no-ops forever, so the
// set is rebuilt whenever the global provider changes.
let cached: { provider: MeterProvider; instruments: VoiceMetrics } | undefined;

export function voiceMetrics(): VoiceMetrics {
  const provider = metrics.getMeterProvider();
  if (cached?.provider === provider) return cached.instruments;
  const meter = provider.getMeter(TRACER_NAME);
  const ms = { unit: 'ms' };
  const instruments: VoiceMetrics = {
    sessionsActive: meter.createUpDownCounter(METRIC_NAMES.sessionsActive, {
      description: 'Sessions with a live sideband',
      unit: '{session}',
    }),
    sessionsStarted: meter.createCounter(METRIC_NAMES.sessionsStarted, {
      description: 'Sessions requested',
      unit: '{session}',
    }),
    sessionsFailed: meter.createCounter(METRIC_NAMES.sessionsFailed, {
      description: 'Sessions that ended in failure',
      unit: '{session}',
    }),
    attachTime: meter.createHistogram(METRIC_NAMES.attachTime, {
      description: 'Call accepted to worker attached',
      ...ms,
    }),
    turnLatency: meter.createHistogram(METRIC_NAMES.turnLatency, {
      description: 'User speech stopped to first audio of the answer',
      ...ms,
    }),
    toolLatency: meter.createHistogram(METRIC_NAMES.toolLatency, { description: 'MCP tool call duration', ...ms }),
    toolErrors: meter.createCounter(METRIC_NAMES.toolErrors, {
      description: 'MCP tool calls that returned an error',
      unit: '{call}',
    }),
    tokensIn: meter.createCounter(METRIC_NAMES.tokensIn, {
      description: 'Input tokens (response.done usage)',
      unit: '{token}',
    }),
    tokensOut: meter.createCounter(METRIC_NAMES.tokensOut, {
      description: 'Output tokens (response.done usage)',
      unit: '{token}',
    }),
    tokensCached: meter.createCounter(METRIC_NAMES.tokensCached, {
      description: 'Cached input tokens (response.done usage), part of the input tokens',
      unit: '{token}',
    }),
    sessionCost: meter.createCounter(METRIC_NAMES.sessionCost, {
      description: 'Cost of calls from their usage and the price table, added as it accrues',
      unit: 'USD',
    }),
    costAlerts: meter.createCounter(METRIC_NAMES.costAlerts, {
      description: 'Calls whose cost passed COST_ALERT_USD',
      unit: '{session}',
    }),
    reconnects: meter.createCounter(METRIC_NAMES.reconnects, {
      description: 'Sideband reconnects',
      unit: '{reconnect}',
    }),
    sessionOverrides: meter.createCounter(METRIC_NAMES.sessionOverrides, {
      description: 'Changes of the agent session settings by someone else (outcome: restored | hung_up)',
      unit: '{change}',
    }),
    judgeScore: meter.createHistogram(METRIC_NAMES.judgeScore, {
      description: 'LLM-as-judge score per criterion (1-5)',
      unit: '{score}',
    }),
    reportFailures: meter.createCounter(METRIC_NAMES.reportFailures, {
      description: 'Worker reports to the lifecycle that failed (the watchdog has to notice instead)',
      unit: '{report}',
    }),
  };
  cached = { provider, instruments };
  return instruments;
}

type Attrs = Record<string, string | number | boolean | undefined>;
const clean = (a: Attrs) =>
  Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Record<string, string | number | boolean>;

export function recordSessionStarted(a: { agentId: string; transport?: string }): void {
  voiceMetrics().sessionsStarted.add(1, clean(a));
}

export function recordSessionFailed(a: { agentId?: string; reason: string }): void {
  // Reasons are free text from callers; keep only the leading token so the attribute stays low-cardinality.
  voiceMetrics().sessionsFailed.add(1, clean({ agentId: a.agentId, reason: a.reason.split(/[\s:]/)[0]?.slice(0, 40) }));
}

/** +1 when a worker attaches, -1 when it detaches (in the process that holds the sideband). */
export function recordSessionActive(delta: 1 | -1, a: { agentId?: string } = {}): void {
  voiceMetrics().sessionsActive.add(delta, clean(a));
}

export function recordAttachTime(ms: number, a: { agentId?: string; transport?: string } = {}): void {
  voiceMetrics().attachTime.record(Math.max(0, ms), clean(a));
}

export function recordTurnLatency(ms: number, a: { agentId?: string; via?: string } = {}): void {
  voiceMetrics().turnLatency.record(Math.max(0, ms), clean(a));
}

export function recordToolCall(a: { tool: string; agentId?: string; durationMs: number; isError: boolean }): void {
  const attrs = clean({ tool: a.tool, agentId: a.agentId, outcome: a.isError ? 'error' : 'ok' });
  voiceMetrics().toolLatency.record(Math.max(0, a.durationMs), attrs);
  if (a.isError) voiceMetrics().toolErrors.add(1, attrs);
}

export function recordReconnect(a: { agentId?: string; reason?: string } = {}): void {
  voiceMetrics().reconnects.add(1, clean(a));
}

export function recordReportFailure(a: { type: string }): void {
  voiceMetrics().reportFailures.add(1, clean(a));
}

export function recordJudgeScore(
  criterion: string,
  score: number,
  a: { agentId?: string; judgeModel?: string } = {},
): void {
  voiceMetrics().judgeScore.record(score, clean({ criterion, ...a }));
}

/** `response.done` usage as the Realtime API reports it (GA and beta shapes share these fields). */
export interface RealtimeUsage {
  input_tokens?: number;
  output_tokens?: number;
  input_token_details?: {
    text_tokens?: number;
    audio_tokens?: number;
    cached_tokens?: number;
    cached_tokens_details?: { text_tokens?: number; audio_tokens?: number };
  };
  output_token_details?: { text_tokens?: number; audio_tokens?: number };
}

/** A call's cost grew by `usd` (never negative); `model` is the price-table entry. */
export function recordCost(usd: number, a: { agentId?: string; model?: string }): void {
  if (usd > 0) voiceMetrics().sessionCost.add(usd, clean(a));
}

export function recordCostAlert(a: { agentId?: string; model?: string }): void {
  voiceMetrics().costAlerts.add(1, clean(a));
}

/** Counts tokens by modality; returns what was counted (for span attributes). */
export function recordUsage(
  usage: RealtimeUsage | undefined | null,
  a: { agentId?: string } = {},
): { input: number; output: number } {
  if (!usage) return { input: 0, output: 0 };
  const m = voiceMetrics();
  const input = usage.input_tokens ?? 0;
  const output = usage.output_tokens ?? 0;
  const split = (total: number, d: { text_tokens?: number; audio_tokens?: number } | undefined, counter: Counter) => {
    const text = d?.text_tokens ?? 0;
    const audio = d?.audio_tokens ?? 0;
    // Providers that give only a total still get counted, under modality "unknown".
    const rest = Math.max(0, total - text - audio);
    if (text) counter.add(text, clean({ ...a, modality: 'text' }));
    if (audio) counter.add(audio, clean({ ...a, modality: 'audio' }));
    if (rest) counter.add(rest, clean({ ...a, modality: 'unknown' }));
  };
  split(input, usage.input_token_details, m.tokensIn);
  const cached = usage.input_token_details?.cached_tokens ?? 0;
  const cd = usage.input_token_details?.cached_tokens_details;
  if (cd?.text_tokens) m.tokensCached.add(cd.text_tokens, clean({ ...a, modality: 'text' }));
  if (cd?.audio_tokens) m.tokensCached.add(cd.audio_tokens, clean({ ...a, modality: 'audio' }));
  const cachedRest = cached - (cd?.text_tokens ?? 0) - (cd?.audio_tokens ?? 0);
  if (cachedRest > 0) m.tokensCached.add(cachedRest, clean({ ...a, modality: cd ? 'image' : 'unknown' }));
  split(output, usage.output_token_details, m.tokensOut);
  return { input, output };
}
