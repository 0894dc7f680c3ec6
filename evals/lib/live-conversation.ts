import type WebSocket from 'ws';
import { liveStartupConfig } from '../../shared/providers/live/session-config';
import { createLiveProtocol } from '../../shared/realtime/live';
import { decodedList, type RealtimeProtocol } from '../../shared/realtime/protocol';
import { utteranceOf } from '../../shared/realtime/transcript';
import type { ServerEvent } from '../../shared/realtime/events';
import type { ToolCall } from '../../shared/mcp/types';
import { concat, DEFAULT_SPEECH, silence, synthesize, toBase64, type SpeechSpec } from './audio';
import type { ToolCallRecord, TurnRecord } from './checks';
import type { ConversationOptions } from './conversation';

/** A transcript item counts as complete after this much quiet (the worker waits as long). */
const ITEM_PAUSE_MS = 1500;

/**
 * One scenario on the Live API's primary WebSocket (`…/live/sessions`), as the worker would run it on the sideband:
 * `session.start` with the agent's startup config (the same the backend sends; PCM16 24 kHz), each user turn
 * spoken (Live takes no typed user input: a text scenario is spoken with the default voice), the delegation's
 * function calls run through the tool runner and answered with `response.item.create` + `response.create`. Events
 * are read through the worker's Live protocol, so answers are the transcript items the history would keep.
 */
export class LiveConversation {
  private readonly protocol: RealtimeProtocol = createLiveProtocol();
  private events: { e: ServerEvent; at: number }[] = [];
  private firstOutputAt: number | undefined;
  private closed = false;
  private readonly now: () => number;

  constructor(
    private readonly ws: WebSocket,
    private readonly opts: ConversationOptions & { delegationModel: string },
  ) {
    this.now = opts.now ?? (() => performance.now());
    ws.on('message', (data) => {
      let wire: { type?: unknown };
      try {
        wire = JSON.parse(data.toString()) as { type?: unknown };
      } catch {
        return;
      }
      if (wire.type === 'session.output_transcript.delta' && this.firstOutputAt === undefined)
        this.firstOutputAt = this.now();
      this.record(decodedList(this.protocol.decode(wire)));
    });
    ws.on('close', () => (this.closed = true));
  }

  private record(events: readonly ServerEvent[]) {
    for (const e of events) this.events.push({ e, at: this.now() });
  }

  private send(wire: Record<string, unknown>) {
    this.ws.send(JSON.stringify(wire));
  }

  /** Waits until `find` returns something, settling paused transcript items as it goes. */
  private async until<T>(find: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
    const deadline = this.now() + timeoutMs;
    for (;;) {
      this.record(this.protocol.flush?.(ITEM_PAUSE_MS) ?? []);
      const v = find();
      if (v !== undefined || this.closed || this.now() > deadline) return v;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async start(): Promise<void> {
    const startup = liveStartupConfig(this.opts.session, { delegationModel: this.opts.delegationModel });
    const session = { ...startup, audio: { ...startup.audio, format: { type: 'audio/pcm', rate: 24000 } } };
    this.send({ type: 'session.start', session });
    const e = await this.until(
      () => this.events.find((x) => x.e.type === 'session.created' || x.e.type === 'error'),
      10_000,
    );
    if (e?.e.type !== 'session.created')
      throw new Error(`session.start failed: ${JSON.stringify(e?.e ?? 'no answer')}`);
  }

  textTurn(text: string): Promise<TurnRecord> {
    return this.audioTurn(text, DEFAULT_SPEECH);
  }

  async audioTurn(text: string, speech: SpeechSpec): Promise<TurnRecord> {
    const pcm = concat(silence(300), await synthesize(text, speech), silence(900));
    const from = this.events.length;
    this.firstOutputAt = undefined;
    for (let i = 0; i < pcm.length; i += 2400) {
      this.send({ type: 'session.input_audio.append', audio: toBase64(pcm.subarray(i, i + 2400)) });
      if (this.opts.realtimePacing) await new Promise((r) => setTimeout(r, 100));
    }
    const spokenAt = this.now();
    const timeoutMs = this.opts.turnTimeoutMs ?? 20_000;
    const toolCalls: ToolCallRecord[] = [];
    let cursor = from;
    let answeredAfter = from; // an answer counts once it completes after the last tool output
    let error: string | undefined;
    const deadline = this.now() + timeoutMs;
    for (;;) {
      const next = await this.until(() => this.nextTurnEvent(from, cursor, answeredAfter), deadline - this.now());
      if (next === undefined) {
        error = this.closed ? 'the Live socket closed' : `no answer within ${timeoutMs} ms`;
        break;
      }
      cursor = next + 1;
      const e = this.events[next]!.e;
      if (e.type === 'error') {
        error = `error event: ${JSON.stringify(e.error).slice(0, 300)}`;
        break;
      }
      if (e.type !== 'response.function_call_arguments.done') break; // the answer
      const call: ToolCall = { callId: String(e.call_id), name: String(e.name), arguments: e.arguments || '{}' };
      const result = await this.opts.runTool(call);
      toolCalls.push({
        name: call.name,
        arguments: safeJson(call.arguments),
        output: result.output,
        isError: result.isError,
        durationMs: result.durationMs,
      });
      this.send({
        type: 'response.item.create',
        item: { type: 'function_call_output', call_id: call.callId, output: result.output },
      });
      this.send({ type: 'response.create' });
      answeredAfter = this.events.length;
    }
    const said = this.events.slice(from, cursor).flatMap(({ e }) => {
      const u = utteranceOf(e);
      return u?.role === 'assistant' ? [u.text] : [];
    });
    const heard = this.events.slice(from).flatMap(({ e }) => {
      const u = utteranceOf(e);
      return u?.role === 'user' ? [u.text] : [];
    })[0];
    return {
      user: text,
      heard,
      answer: said.join(' ').trim(),
      toolCalls,
      latency: {
        firstResponseMs: this.firstOutputAt !== undefined ? Math.round(this.firstOutputAt - spokenAt) : undefined,
        totalMs: cursor > from ? Math.round(this.events[cursor - 1]!.at - spokenAt) : undefined,
      },
      ...(error ? { error } : {}),
    };
  }

  /**
   * The next function call or error at or after `cursor`, or the assistant's finished answer: one that completes
   * after the last tool output and while no delegation is still working (its "one moment" is not the answer).
   */
  private nextTurnEvent(from: number, cursor: number, answeredAfter: number): number | undefined {
    let delegating = false;
    for (let n = from; n < this.events.length; n++) {
      const e = this.events[n]!.e;
      if (e.type === 'unknown' && e.originalType === 'session.delegation.created') delegating = true;
      if (e.type === 'response.done') delegating = false;
      if (n < cursor) continue;
      if (e.type === 'response.function_call_arguments.done' || e.type === 'error') return n;
      if (!delegating && n >= answeredAfter && utteranceOf(e)?.role === 'assistant') return n;
    }
    return undefined;
  }

  close(): void {
    if (!this.closed) this.ws.close();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
