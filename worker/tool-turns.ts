import { createHash } from 'node:crypto';
import { TOOL_PROGRESS_AFTER_MS, toolProgressResponse } from '../shared/mcp/output';
import { str, type RealtimeClientEvent, type ServerEventOf } from '../shared/realtime/events';
import type { ResponseGate } from './response-gate';
import type { SessionTranscript } from './session-transcript';
import type { PreparedAgent, SidebandDeps } from './sideband';
import type { DeliverableOutput } from './tools';

/** A function call as the model made it. */
export interface FunctionCall {
  callId: string;
  name: string;
  arguments: string;
}

/**
 * A tool the worker answers itself (call control). `after` runs once its output is sent; with it, the tool asks
 * the gate for whatever is said next, so no tool-result response is asked for it.
 */
export type BuiltinTool = (call: FunctionCall) => Promise<{ output: string; isError?: boolean; after?: () => void }>;

/** Output items get ids we choose, so re-sending one after a takeover is recognisably the same item. */
export const outputItemId = (callId: string) =>
  `fco_${createHash('sha256').update(callId).digest('base64url').slice(0, 24)}`;

export interface ToolTurnsDeps {
  sessionId: string;
  partition: string;
  prepared: PreparedAgent;
  sidebandDeps: SidebandDeps;
  gate: ResponseGate;
  transcript: SessionTranscript;
  send(event: RealtimeClientEvent, onSent?: () => void, onDropped?: () => void): void;
  closed(): boolean;
  /** Ask for a "one moment" line when a tool is slow (false: the service says its own). */
  progressLines?: boolean;
}

/**
 * The function calls of one session: MCP tools through the executor, built-in ones here, each output sent as an
 * item and one answer asked of the gate once no tool is still running.
 */
export class ToolTurns {
  private running = 0;
  private resultsPending = false;
  readonly builtins = new Map<string, BuiltinTool>();

  constructor(private readonly d: ToolTurnsDeps) {}

  async onFunctionCall(ev: ServerEventOf<'response.function_call_arguments.done'>): Promise<void> {
    const callId = str(ev.call_id);
    const name = str(ev.name);
    if (!callId || !name) return;
    const call = { callId, name, arguments: str(ev.arguments) ?? '' };
    const { sidebandDeps: deps, gate, prepared } = this.d;
    this.running++;
    deps.stats.toolCalls++;
    // Long tool: let the model say "one moment" — only if nothing else is talking or waiting to.
    const progress =
      this.d.progressLines === false
        ? undefined
        : setTimeout(() => {
            if (!this.d.closed())
              gate.request({
                kind: 'progress',
                response: toolProgressResponse(name, prepared.agent),
                onlyIfIdle: true,
              });
          }, TOOL_PROGRESS_AFTER_MS);
    try {
      const builtin = this.builtinFor(name);
      if (builtin) {
        const r = await builtin(call);
        const out = { ...call, output: r.output, isError: r.isError ?? false, durationMs: 0, stored: false };
        this.sendOutputs([out], !r.after);
        r.after?.();
        return;
      }
      // Before a tool with side effects runs, the turn that led to it is written (alongside the claim), so a
      // worker killed mid-tool loses no transcript item; a failed write stays pending for the next tick.
      const durable = () => deps.transcripts.flushPartition(this.d.partition);
      // The agent is read now: after a handoff the previous agent's tools are refused by its successor's list.
      const run = () => deps.executor.run(this.d.sessionId, prepared.agent, call, undefined, durable);
      const observer = deps.observer;
      const out = observer?.toolCall ? await observer.toolCall(call, run) : await run();
      if (out) this.sendOutputs([out]);
    } catch (err) {
      // Storage failed around the run; the next worker's recovery (or a retry of the call) deals with it.
      deps.log(`tool ${name} (${callId}) in ${this.d.sessionId} failed: ${(err as Error).message}`);
    } finally {
      clearTimeout(progress);
      this.running--;
      this.askForAnswer();
    }
  }

  /** A built-in tool answers only while the current agent's session declares it. */
  private builtinFor(name: string): BuiltinTool | undefined {
    const tool = this.builtins.get(name);
    if (!tool) return undefined;
    const declared = (this.d.prepared.session.tools ?? []).some((t) => t.type === 'function' && t.name === name);
    return declared ? tool : undefined;
  }

  deliver(outputs: DeliverableOutput[]): void {
    this.sendOutputs(outputs);
    this.askForAnswer();
  }

  /**
   * Sends outputs as items now (a response already running took its input when it started, so it does not
   * answer them); the gate asks for one response once no tool is still running.
   */
  private sendOutputs(outputs: DeliverableOutput[], answer = true) {
    const { sidebandDeps: deps, sessionId } = this.d;
    if (answer) this.resultsPending = true;
    for (const o of outputs) {
      const id = outputItemId(o.callId);
      this.d.send(
        {
          type: 'conversation.item.create',
          item: { id, type: 'function_call_output', call_id: o.callId, output: o.output },
        },
        () => {
          void deps.executor
            .delivered(sessionId, o)
            .catch((err) => deps.log(`marking ${o.callId} delivered failed: ${(err as Error).message}`));
        },
        // Never sent (the session closed first): stored for the next worker to deliver.
        () => void deps.executor.undeliverable(sessionId, o),
      );
      this.d.transcript.record(id, 'tool', o.output, { callId: o.callId, toolName: o.name });
    }
  }

  /** The last tool to finish asks for the answer: one response covers every output sent meanwhile. */
  private askForAnswer() {
    if (!this.resultsPending || this.running > 0 || this.d.closed()) return;
    this.resultsPending = false;
    this.d.gate.request({ kind: 'tool-result', coalesce: true });
  }
}
