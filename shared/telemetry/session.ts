import { context, trace, SpanKind, type Context, type Span } from '@opentelemetry/api';
import {
  recordSessionActive,
  recordToolCall,
  recordTurnLatency,
  recordUsage,
  recordReconnect,
  type RealtimeUsage,
} from './metrics';
import { contextFromTraceparent, markSpanError, withSpan, tracer } from './tracing';
import { TurnLatencyTracker, type TurnLatency } from './turn-latency';
import { callRef } from '../calls/binding';
import type { ObservedEvent } from '../realtime/events';

export interface SessionIds {
  sessionId: string;
  agentId: string;
  callId?: string;
  /** The trace the session was minted in (stored with the session), so the worker's spans join it. */
  traceparent?: string;
}

/**
 * Telemetry for one session as the worker sees it over the sideband: a long `voice.session.sideband` span,
 * turn latency from server events, token usage from `response.done`, and a child span per tool call.
 * The worker calls `onServerEvent` for every event it receives — nothing else needs timing code.
 */
export class SessionTelemetry {
  readonly span: Span;
  readonly context: Context;
  readonly turns = new TurnLatencyTracker();
  private ended = false;
  private tokens = { input: 0, output: 0 };

  constructor(
    readonly ids: SessionIds,
    private readonly now: () => number = Date.now,
  ) {
    const parent = contextFromTraceparent(ids.traceparent, context.active());
    this.span = tracer().startSpan(
      'voice.session.sideband',
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'session.id': ids.sessionId,
          'agent.id': ids.agentId,
          ...(ids.callId ? { 'realtime.call_ref': callRef(ids.callId) } : {}),
        },
      },
      parent,
    );
    this.context = trace.setSpan(parent, this.span);
    recordSessionActive(1, { agentId: ids.agentId });
  }

  /** Feed every sideband server event; returns a completed turn's latency, if this event closed one. */
  onServerEvent(
    event: ObservedEvent | { type?: unknown; [k: string]: unknown },
    atMs: number = this.now(),
  ): TurnLatency | undefined {
    const turn = this.turns.observe(event as { type?: unknown }, atMs);
    if (turn) {
      recordTurnLatency(turn.latencyMs, { agentId: this.ids.agentId, via: turn.via });
      this.span.addEvent('turn', {
        'turn.latency_ms': turn.latencyMs,
        'turn.via': turn.via,
        ...(turn.responseId ? { 'response.id': turn.responseId } : {}),
      });
    }
    if (event.type === 'response.done') {
      const response = event.response as { usage?: RealtimeUsage; status?: string } | undefined;
      const counted = recordUsage(response?.usage, { agentId: this.ids.agentId });
      this.tokens.input += counted.input;
      this.tokens.output += counted.output;
    } else if (event.type === 'error') {
      const err = event.error as { code?: string; type?: string } | undefined;
      // The message may echo user input; the code/type is enough to find the problem.
      this.span.addEvent('realtime.error', { 'error.code': String(err?.code ?? err?.type ?? 'unknown') });
    }
    return turn;
  }

  /**
   * Runs a tool call as a child span (outgoing MCP requests made inside carry its traceparent) and records
   * its latency/outcome from the result. An undefined result means the call was not run here (another worker
   * owns it): the span says so and no metric is recorded.
   */
  async toolCall<R extends { isError: boolean; durationMs?: number } | undefined>(
    call: { name: string; callId: string },
    fn: () => Promise<R>,
  ): Promise<R> {
    const started = this.now();
    return withSpan(
      `tool ${call.name}`,
      {
        'session.id': this.ids.sessionId,
        'agent.id': this.ids.agentId,
        'tool.name': call.name,
        'tool.call_id': call.callId,
      },
      async (span) => {
        try {
          const result = await fn();
          if (!result) {
            span.setAttribute('tool.skipped', true);
            return result;
          }
          const durationMs = result.durationMs ?? this.now() - started;
          span.setAttribute('tool.duration_ms', durationMs);
          if (result.isError) markSpanError(span, 'tool returned an error');
          recordToolCall({ tool: call.name, agentId: this.ids.agentId, durationMs, isError: result.isError });
          return result;
        } catch (err) {
          recordToolCall({
            tool: call.name,
            agentId: this.ids.agentId,
            durationMs: this.now() - started,
            isError: true,
          });
          throw err;
        }
      },
      { parent: this.context, kind: SpanKind.CLIENT },
    );
  }

  /** Runs `fn` with the session span active (outgoing HTTP made inside carries its traceparent). */
  run<T>(fn: () => T): T {
    return context.with(this.context, fn);
  }

  reconnected(reason?: string): void {
    recordReconnect({ agentId: this.ids.agentId, reason });
    this.span.addEvent('sideband.reconnect', reason ? { reason } : {});
  }

  end(outcome: { failed?: boolean; reason?: string } = {}): void {
    if (this.ended) return;
    this.ended = true;
    recordSessionActive(-1, { agentId: this.ids.agentId });
    this.span.setAttributes({
      'session.turns': this.turns.turns.length,
      'session.tokens.input': this.tokens.input,
      'session.tokens.output': this.tokens.output,
      ...(outcome.reason ? { 'session.end_reason': outcome.reason } : {}),
    });
    if (outcome.failed) markSpanError(this.span, outcome.reason ?? 'session failed');
    this.span.end();
  }
}
