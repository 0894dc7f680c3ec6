import type WebSocket from 'ws';
import type { AgentDefinition } from '../../shared/agents/schema';
import type { ToolCall, ToolResult } from '../../shared/mcp/types';
import type { SessionConfig } from '../../shared/providers/types';
import type { RealtimeClientEvent } from '../../shared/realtime/events';
import { gaProtocol, type RealtimeProtocol } from '../../shared/realtime/protocol';
import { TurnLatencyTracker } from '../../shared/telemetry/turn-latency';
import { concat, silence, synthesize, toBase64, type SpeechSpec } from './audio';
import type { ToolCallRecord, TurnRecord } from './checks';

type ServerEvent = { type: string; [k: string]: unknown };

export interface ConversationOptions {
  agent: AgentDefinition;
  session: SessionConfig;
  runTool(call: ToolCall): Promise<ToolResult>;
  /** Per-turn limit (ms) before the turn is failed as timed out. */
  turnTimeoutMs?: number;
  /** Stream audio at real-time speed (real endpoints); the emulator takes it as fast as it comes. */
  realtimePacing?: boolean;
  /** The provider's wire protocol (GA Realtime when not given): the conversation itself speaks GA events. */
  protocol?: RealtimeProtocol;
  now?: () => number;
}

/**
 * Drives one direct realtime WebSocket session the way a client plus the worker would: applies the agent's
 * session config, sends each user turn (typed, or spoken PCM16 appended in 100 ms chunks), runs the model's
 * function calls through the tool runner (the MCP gateway) and feeds their outputs back, and records what
 * happened and how fast.
 */
export class Conversation {
  private events: { e: ServerEvent; at: number }[] = [];
  private waiters: { pred: (e: ServerEvent) => boolean; resolve: (e: ServerEvent) => void }[] = [];
  private closed = false;
  private readonly now: () => number;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: ConversationOptions,
  ) {
    this.now = opts.now ?? (() => performance.now());
    const protocol = opts.protocol ?? gaProtocol;
    ws.on('message', (data) => {
      let e: ServerEvent;
      try {
        const decoded = protocol.decode(JSON.parse(data.toString()));
        if (!decoded) return;
        e = decoded as unknown as ServerEvent;
      } catch {
        return;
      }
      this.events.push({ e, at: this.now() });
      this.waiters = this.waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true));
    });
    ws.on('close', () => {
      this.closed = true;
      const closedEvent = { type: '__closed' };
      for (const w of this.waiters) if (w.pred(closedEvent)) w.resolve(closedEvent);
    });
  }

  private send(e: Record<string, unknown>) {
    const wire = (this.opts.protocol ?? gaProtocol).encode(e as unknown as RealtimeClientEvent);
    if (wire) this.ws.send(JSON.stringify(wire));
  }

  private waitFor(pred: (e: ServerEvent) => boolean, timeoutMs: number, from = 0): Promise<ServerEvent> {
    const seen = this.events.slice(from).find((x) => pred(x.e));
    if (seen) return Promise.resolve(seen.e);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error('timed out'));
      }, timeoutMs);
      const done = (e: ServerEvent) => {
        clearTimeout(timer);
        resolve(e);
      };
      this.waiters.push({ pred: (e) => pred(e) || e.type === '__closed', resolve: done });
    });
  }

  async start(): Promise<void> {
    const from = this.events.length;
    // The model is fixed by the connection URL; the rest of the agent's session config is applied as-is.
    const { model: _model, ...session } = this.opts.session as SessionConfig & { model?: string };
    this.send({ type: 'session.update', session });
    const e = await this.waitFor((x) => x.type === 'session.updated' || x.type === 'error', 10_000, from);
    if (e.type !== 'session.updated')
      throw new Error(`session.update refused: ${JSON.stringify(e.error ?? e).slice(0, 300)}`);
  }

  /** Applies another agent's session mid-conversation, as the worker does after a handoff. */
  async applySession(session: SessionConfig): Promise<void> {
    const { model: _model, ...rest } = session as SessionConfig & { model?: string };
    this.send({ type: 'session.update', session: rest });
  }

  /** One user turn, typed. */
  async textTurn(text: string): Promise<TurnRecord> {
    const from = this.events.length;
    this.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
    });
    this.send({ type: 'response.create' });
    const turnEnd = this.now();
    return this.collect({ user: text, from, turnEnd: () => turnEnd });
  }

  /** One user turn, spoken: synthesized speech between silences, appended as the browser would. */
  async audioTurn(text: string, speech: SpeechSpec): Promise<TurnRecord> {
    const pcm = concat(silence(300), await synthesize(text, speech), silence(900));
    const from = this.events.length;
    const chunk = 2400; // 100 ms at 24 kHz
    for (let i = 0; i < pcm.length; i += chunk) {
      this.send({ type: 'input_audio_buffer.append', audio: toBase64(pcm.subarray(i, i + chunk)) });
      if (this.opts.realtimePacing) await new Promise((r) => setTimeout(r, 100));
    }
    const td = this.opts.session.audio?.input?.turn_detection;
    if (!td) {
      // Push-to-talk agents: the client ends the turn.
      this.send({ type: 'input_audio_buffer.commit' });
      this.send({ type: 'response.create' });
    } else if ('create_response' in td && td.create_response === false) {
      await this.waitFor((e) => e.type === 'input_audio_buffer.committed', 10_000, from).catch(() => undefined);
      this.send({ type: 'response.create' });
    }
    const sentAt = this.now();
    // Latency counts from the service's end-of-speech decision, as the worker's TurnLatencyTracker does.
    const stoppedAt = () =>
      this.events.slice(from).find((x) => x.e.type === 'input_audio_buffer.speech_stopped')?.at ?? sentAt;
    const record = await this.collect({ user: text, from, turnEnd: stoppedAt, audio: true });
    const heard = await this.waitFor(
      (e) =>
        e.type === 'conversation.item.input_audio_transcription.completed' ||
        e.type === 'conversation.item.input_audio_transcription.failed',
      3000,
      from,
    ).catch(() => undefined);
    record.heard = heard && typeof heard.transcript === 'string' ? heard.transcript : undefined;
    return record;
  }

  /**
   * Follows responses until the turn settles: every response.done; function calls run and their outputs
   * sent back with a new response.create; the turn ends at a response.done with no function calls.
   */
  private async collect(t: {
    user: string;
    from: number;
    turnEnd: () => number;
    audio?: boolean;
  }): Promise<TurnRecord> {
    const timeoutMs = this.opts.turnTimeoutMs ?? 20_000;
    const deadline = this.now() + timeoutMs;
    const toolCalls: ToolCallRecord[] = [];
    const said: string[] = [];
    let cursor = t.from;
    let lastDoneAt: number | undefined;
    let error: string | undefined;
    for (;;) {
      const left = deadline - this.now();
      if (left <= 0 || this.closed) {
        error = this.closed ? 'the realtime socket closed' : `no answer within ${timeoutMs} ms`;
        break;
      }
      let done: ServerEvent;
      try {
        done = await this.waitFor((e) => e.type === 'response.done' || isFatal(e), left, cursor);
      } catch {
        continue; // deadline reached: the loop reports it
      }
      if (done.type === '__closed') continue;
      const index = this.events.findIndex((x, i) => i >= cursor && x.e === done);
      cursor = index + 1;
      if (done.type === 'error') {
        error = `error event: ${JSON.stringify((done as { error?: unknown }).error ?? done).slice(0, 300)}`;
        break;
      }
      lastDoneAt = this.events[index]!.at;
      const response = (done.response ?? {}) as {
        status?: string;
        output?: { type?: string; name?: string; call_id?: string; arguments?: string }[];
      };
      if (response.status === 'failed') {
        error = `response failed: ${JSON.stringify(response).slice(0, 300)}`;
        break;
      }
      const calls = (response.output ?? []).filter((o) => o.type === 'function_call' && o.name && o.call_id);
      if (calls.length === 0) break;
      const results = await Promise.all(
        calls.map(async (c) => {
          const call: ToolCall = { callId: c.call_id!, name: c.name!, arguments: c.arguments ?? '{}' };
          const result = await this.opts.runTool(call);
          toolCalls.push({
            name: call.name,
            arguments: parseArgs(call.arguments),
            output: result.output,
            isError: result.isError,
            durationMs: result.durationMs,
          });
          return { call, result };
        }),
      );
      for (const { call, result } of results) {
        this.send({
          type: 'conversation.item.create',
          item: { type: 'function_call_output', call_id: call.callId, output: result.output },
        });
      }
      this.send({ type: 'response.create' });
    }
    const window = this.events.slice(t.from, cursor);
    for (const { e } of window) {
      if (e.type === 'response.output_audio_transcript.done' && typeof e.transcript === 'string')
        said.push(e.transcript);
      if (e.type === 'response.output_text.done' && typeof e.text === 'string') said.push(e.text);
    }
    const turnEnd = t.turnEnd();
    let firstResponseMs: number | undefined;
    if (t.audio) {
      const tracker = new TurnLatencyTracker();
      for (const { e, at } of window) {
        const turn = tracker.observe(e, at);
        if (turn) {
          firstResponseMs = Math.round(turn.latencyMs);
          break;
        }
      }
    } else {
      const first = window.find(({ e }) => /^response\.output_(audio|text)\.delta$/.test(e.type));
      if (first) firstResponseMs = Math.round(first.at - turnEnd);
    }
    return {
      user: t.user,
      answer: said.join(' ').trim(),
      toolCalls,
      latency: { firstResponseMs, totalMs: lastDoneAt !== undefined ? Math.round(lastDoneAt - turnEnd) : undefined },
      ...(error ? { error } : {}),
    };
  }

  close(): void {
    if (!this.closed) this.ws.close();
  }
}

/** Errors that end a turn: not the benign ones a client may cause by racing (cancel with nothing active). */
function isFatal(e: ServerEvent): boolean {
  if (e.type === '__closed') return true;
  if (e.type !== 'error') return false;
  const code = String((e.error as { code?: unknown } | undefined)?.code ?? '');
  return !/response_cancel_not_active|conversation_already_has_active_response/.test(code);
}

function parseArgs(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
