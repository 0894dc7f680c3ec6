import type { AgentDefinition } from '../shared/agents/schema';
import type { SessionEventPublisher } from '../shared/events/types';
import type { SessionCaller } from '../shared/mcp/identity';
import { summarizeToolOutput } from '../shared/mcp/summary';
import type { ToolGateway } from '../shared/mcp/types';
import type { ToolRun, ToolRunStore } from '../shared/stores/tool-runs';

/** The output a re-attached worker sends for a run that its previous worker started but never finished. */
export const INTERRUPTED_OUTPUT = (tool: string) =>
  `The ${tool} call was interrupted by a service restart and its outcome is unknown. ` +
  'Do not assume it succeeded; tell the user and ask whether to try again.';

export interface ToolExecutorDeps {
  workerId: string;
  gateway: ToolGateway;
  store: ToolRunStore;
  publisher: SessionEventPublisher;
  now: () => number;
  log: (line: string) => void;
  /** The session's caller: whom the MCP servers act for, and the session's tool-call budget. */
  callerOf?: (sessionId: string) => SessionCaller | undefined;
  /** Raw tool output on the page (debugging); otherwise the page gets a summary without the values. */
  rawOutputToPage?: boolean;
}

/** Sent when the run could not even be claimed: nothing ran, and the model should say so. */
export const NOT_STARTED_OUTPUT = (tool: string) =>
  `The ${tool} call could not be started because of a temporary problem on our side; nothing was done. ` +
  'Apologise and offer to try again in a moment.';

export interface DeliverableOutput {
  callId: string;
  name: string;
  output: string;
  isError: boolean;
  durationMs: number;
  /** false when there is no toolruns row to mark delivered (the claim itself failed). */
  stored?: boolean;
}

/**
 * Runs a function call at most once per call id (claim first, then run), stores the output before anyone
 * sends it, and on re-attach turns what a lost worker left behind into outputs to (re-)send.
 */
export class ToolExecutor {
  /** Call ids this process has already handled for a session, so repeated events cost no storage call. */
  private readonly seen = new Map<string, Set<string>>();
  /** Runs in progress in this process (a drain waits for them so their outputs get stored). */
  private readonly running = new Set<Promise<unknown>>();

  get inFlight(): number {
    return this.running.size;
  }

  /** Resolves when the runs in progress have finished, or after `ms`. */
  async settle(ms: number): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.running]), new Promise((r) => (t = setTimeout(r, ms)))]);
    clearTimeout(t);
  }

  constructor(private readonly deps: ToolExecutorDeps) {}

  forget(sessionId: string) {
    this.seen.delete(sessionId);
  }

  /** Undefined when another worker owns this call (it runs and delivers it). */
  async run(
    sessionId: string,
    agent: AgentDefinition,
    call: { callId: string; name: string; arguments: string },
    signal?: AbortSignal,
    /** Awaited (in parallel with the claim) before the tool runs: the worker makes the turn durable first. */
    ready?: Promise<unknown>,
  ): Promise<DeliverableOutput | undefined> {
    const seen = this.seen.get(sessionId) ?? new Set<string>();
    this.seen.set(sessionId, seen);
    if (seen.has(call.callId)) return undefined;
    seen.add(call.callId);
    const { store, publisher, now } = this.deps;
    let claimed: boolean;
    try {
      claimed = await store.claim({
        sessionId,
        callId: call.callId,
        name: call.name,
        workerId: this.deps.workerId,
        at: now(),
      });
    } catch (err) {
      // Without a claim the tool must not run (it could run twice); the model hears that nothing happened.
      this.deps.log(`claiming tool call ${call.callId} failed: ${(err as Error).message}`);
      return {
        callId: call.callId,
        name: call.name,
        output: NOT_STARTED_OUTPUT(call.name),
        isError: true,
        durationMs: 0,
        stored: false,
      };
    }
    if (!claimed) {
      this.deps.log(`tool call ${call.callId} already claimed; not running it again`);
      return undefined;
    }
    await ready?.catch(() => {});
    await publisher
      .publish({
        type: 'tool.started',
        sessionId,
        callId: call.callId,
        name: call.name,
        arguments: call.arguments,
        at: now(),
      })
      .catch(() => {});
    const running = this.deps.gateway.run(agent, call, signal, this.deps.callerOf?.(sessionId));
    this.running.add(running);
    const result = await running.finally(() => this.running.delete(running));
    try {
      await store.complete(sessionId, call.callId, result);
    } catch (err) {
      // The tool ran: its output still goes to the model; only a takeover before delivery would lose it.
      this.deps.log(`storing the output of ${call.callId} failed (delivering anyway): ${(err as Error).message}`);
    }
    await publisher
      .publish({
        type: 'tool.finished',
        sessionId,
        callId: call.callId,
        name: call.name,
        summary: summarizeToolOutput(call.name, result.output, result.isError),
        ...(this.deps.rawOutputToPage ? { output: result.output } : {}),
        isError: result.isError,
        durationMs: result.durationMs,
        at: now(),
      })
      .catch(() => {});
    return { callId: call.callId, name: call.name, ...result };
  }

  /**
   * Called when this worker takes over a session from a lost one: stored outputs are re-sent, runs that never
   * finished get an "interrupted" output. Each takeover is an ETag-checked write, so two workers racing for
   * the same session cannot both deliver.
   */
  async recover(sessionId: string): Promise<DeliverableOutput[]> {
    const { store } = this.deps;
    const runs = await store.undelivered(sessionId);
    const out: DeliverableOutput[] = [];
    const seen = this.seen.get(sessionId) ?? new Set<string>();
    this.seen.set(sessionId, seen);
    for (const run of runs) {
      seen.add(run.callId);
      if (run.workerId === this.deps.workerId && run.status === 'running') continue; // still running here
      const patch = run.status === 'running' ? { output: INTERRUPTED_OUTPUT(run.name), isError: true } : undefined;
      if (!(await store.takeOver(run, this.deps.workerId, patch))) continue;
      out.push(deliverable(run, patch));
    }
    return out;
  }

  delivered(sessionId: string, out: DeliverableOutput): Promise<void> {
    if (out.stored === false) return Promise.resolve();
    return this.deps.store.markDelivered(sessionId, out.callId);
  }
}

function deliverable(run: ToolRun, patch?: { output: string; isError: boolean }): DeliverableOutput {
  return {
    callId: run.callId,
    name: run.name,
    output: patch?.output ?? run.output ?? '',
    isError: patch?.isError ?? run.isError ?? false,
    durationMs: run.durationMs ?? 0,
  };
}
