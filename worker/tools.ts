import type { AgentDefinition } from '../shared/agents/schema';
import type { SessionEventPublisher } from '../shared/events/types';
import type { SessionCaller } from '../shared/mcp/identity';
import { summarizeToolOutput } from '../shared/mcp/summary';
import type { ToolGateway } from '../shared/mcp/types';
import type { ToolRun, ToolRunStore } from '../shared/stores/tool-runs';
import { logFailure } from '../shared/telemetry/log';

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
  /** false when there is no toolruns row to mark delivered (a retry-safe run, or the claim itself failed). */
  stored?: boolean;
  /** The run skipped the claim: running it again does no harm. */
  retrySafe?: boolean;
  /** Set by run(): stored with the delivered mark. */
  fresh?: boolean;
}

/**
 * Runs a function call at most once per call id: a call with side effects is claimed in storage first (the one
 * write before the tool); a retry-safe one (read-only or idempotent) runs with no storage at all. The output
 * goes to the model first and is recorded after it was sent; one that could not be sent is stored for the
 * session's next worker. On re-attach, turns what a lost worker left behind into outputs to (re-)send.
 */
export class ToolExecutor {
  /** Call ids this process has already handled for a session, so repeated events cost no storage call. */
  private readonly seen = new Map<string, Set<string>>();
  /** Runs and output writes in progress in this process (a drain waits for them so outputs get stored). */
  private readonly running = new Set<Promise<unknown>>();

  get inFlight(): number {
    return this.running.size;
  }

  /** Resolves when the runs in progress (and the output writes they lead to) have finished, or after `ms`. */
  async settle(ms: number): Promise<void> {
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (t = setTimeout(() => r('timeout'), ms)));
    // A run that ends hands its output to the session, which may add a write: wait again until none is left.
    while (this.running.size > 0) {
      const settled = Promise.allSettled([...this.running]).then(() => new Promise((r) => setImmediate(r)));
      if ((await Promise.race([settled, timeout])) === 'timeout') break;
    }
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
    /**
     * Makes the turn that led to the call durable. Started alongside the claim and awaited before a tool with side
     * effects runs; a retry-safe call leaves the turn to the next transcript batch.
     */
    durable?: () => Promise<unknown>,
  ): Promise<DeliverableOutput | undefined> {
    const seen = this.seen.get(sessionId) ?? new Set<string>();
    this.seen.set(sessionId, seen);
    if (seen.has(call.callId)) return undefined;
    seen.add(call.callId);
    const { store, publisher, now, gateway } = this.deps;
    const retrySafe =
      (await gateway.retrySafe?.(agent, call.name).catch((err) => {
        // Not knowing means treating the call as one with side effects: it is claimed first.
        this.deps.log(`retry-safety of ${call.name} unknown (${(err as Error).message}); claiming the call`);
        return false;
      })) ?? false;
    // A retry-safe call has nothing to protect: a second run (after a lost worker) repeats a lookup.
    if (!retrySafe) {
      const turn = durable?.().catch(logFailure(this.deps.log, `waiting for the turn before ${call.callId}`));
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
      await turn;
    }
    // Live updates never hold the model up; finished follows started so the page sees them in order.
    const started = publisher
      .publish({
        type: 'tool.started',
        sessionId,
        callId: call.callId,
        name: call.name,
        arguments: call.arguments,
        at: now(),
      })
      .catch(logFailure(this.deps.log, `publishing tool.started for ${call.callId}`));
    const running = gateway.run(agent, call, signal, this.deps.callerOf?.(sessionId));
    this.running.add(running);
    const result = await running.finally(() => this.running.delete(running));
    void started.then(() =>
      publisher
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
        .catch(logFailure(this.deps.log, `publishing tool.finished for ${call.callId}`)),
    );
    return { callId: call.callId, name: call.name, ...result, stored: !retrySafe, retrySafe, fresh: true };
  }

  /**
   * An output that could not be sent (the session's socket closed first) is stored for the next worker to
   * deliver; a drain waits for these writes.
   */
  undeliverable(sessionId: string, out: DeliverableOutput): Promise<void> {
    if (!out.fresh || (out.stored === false && !out.retrySafe)) return Promise.resolve();
    const unclaimed = out.retrySafe ? { name: out.name, workerId: this.deps.workerId, at: this.deps.now() } : undefined;
    const write = this.deps.store
      .complete(sessionId, out.callId, out, unclaimed)
      .catch((err) => this.deps.log(`storing the unsent output of ${out.callId} failed: ${(err as Error).message}`));
    this.running.add(write);
    return write.finally(() => this.running.delete(write));
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

  /**
   * After the output was sent: one write, off the model's path (and none for a retry-safe run). The store may hold
   * it back to share a transaction; a drain waits for it.
   */
  delivered(sessionId: string, out: DeliverableOutput): Promise<void> {
    if (out.stored === false) return Promise.resolve();
    const { callId, output, isError, durationMs } = out;
    const write = this.deps.store.markDelivered(
      sessionId,
      callId,
      out.fresh ? { output, isError, durationMs } : undefined,
    );
    this.running.add(write);
    return write.finally(() => this.running.delete(write));
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
