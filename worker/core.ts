import type WebSocket from 'ws';
import type { AgentDefinition } from '../shared/agents/schema';
import type { SessionEventPublisher } from '../shared/events/types';
import { callerIdentityFor, identityKey, SessionCaller } from '../shared/mcp/identity';
import type { ToolGateway } from '../shared/mcp/types';
import type { HistoryStore } from '../shared/memory/types';
import type { ProviderName } from '../shared/config/index';
import type { SessionConfig } from '../shared/providers/types';
import { protocolFor } from '../shared/realtime/protocol';
import type { ToolRunStore } from '../shared/stores/tool-runs';
import type { AttachBody } from '../shared/worker-client/api';
import type { WorkerLifecycle } from './lifecycle-client';
import { historyPartitionForCaller } from '../shared/memory/types';
import { logFailure } from '../shared/telemetry/log';
import { recordReportFailure } from '../shared/telemetry/metrics';
import { SidebandSession, type SessionObserver, type SidebandExtension } from './sideband';
import { ToolExecutor } from './tools';
import { verifiedMemory } from './verified-memory';
import { TranscriptBatcher } from './transcripts';
import { callRef } from '../shared/calls/binding';
import type { CallStore } from '../shared/stores/calls';
import { CallNotBoundError } from './call-binding';
import { handoffs } from './handoff';
import type { Transport } from '../shared/lifecycle/operations';

export interface WorkerCoreDeps {
  workerId: string;
  /** The realtime provider this worker talks to (REALTIME_PROVIDER); attaches naming another are refused. */
  provider?: string;
  openSideband(callId: string): Promise<WebSocket>;
  agents: {
    get(id: string): Promise<AgentDefinition | undefined>;
    /** The version a session started with (it keeps it when the agent changes or is retired meanwhile). */
    getVersion?(id: string, version: number): Promise<AgentDefinition | undefined>;
  };
  gateway: ToolGateway;
  sessionConfig(
    agent: AgentDefinition,
    tools: Awaited<ReturnType<ToolGateway['toolsFor']>>,
    sessionId: string,
    transport?: Transport,
  ): SessionConfig;
  /** The session's current agent, written on the session row when a handoff changes it. */
  onAgentChanged?(sessionId: string, agentId: string): Promise<void>;
  history: Pick<HistoryStore, 'append'>;
  publisher: SessionEventPublisher;
  toolRuns: ToolRunStore;
  lifecycle: WorkerLifecycle;
  seed?(s: { sessionId: string; agentId: string; partition: string; resume?: boolean }): Promise<unknown[]>;
  /** The session row written by the HTTP side (history partition, resume choice); one read per attach. */
  sessionInfo?(
    sessionId: string,
  ): Promise<
    { historyPartition?: string; resume?: boolean; traceparent?: string; currentAgentId?: string } | undefined
  >;
  /** Per-session telemetry / accounting hooks (turn latency, tokens, tool spans); see SessionObserver. */
  observe?(s: {
    sessionId: string;
    agentId: string;
    callId: string;
    attempt: number;
    partition: string;
    traceparent?: string;
    /** The model or deployment the session config names (what the call is priced as). */
    model?: string;
  }): SessionObserver | undefined;
  /** Signs each session's caller token for the MCP servers (WORKER_AUTH_SECRET); no caller identity without it. */
  identitySecret?: string;
  /** MCP_TOOL_CALLS_PER_SESSION. */
  toolCallsPerSession?: number;
  /** DEBUG_TOOL_OUTPUT_TO_PAGE. */
  rawToolOutputToPage?: boolean;
  /** Worker-side features hooked into every session (event subscriptions, gate requests); see SidebandContext. */
  extensions?: readonly SidebandExtension[];
  /** One session per call (Table `calls`); without it the session reference alone binds the call. */
  calls?: CallStore;
  maxSessions: number;
  heartbeatIntervalMs: number;
  /** The shared tick: transcript batches are written this often; heartbeats every heartbeatIntervalMs. */
  tickMs?: number;
  reconnectDelaysMs?: number[];
  logTranscripts?: boolean;
  log?: (line: string) => void;
  now?: () => number;
}

/** An attach that cannot happen here; `status` is what the HTTP API answers. */
export class AttachError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'AttachError';
  }
}

/** Heartbeat bodies stay well under the Function app's MAX_BODY_BYTES (64 KiB by default). */
const HEARTBEAT_CHUNK = 1000;

/**
 * Everything a worker process does, without HTTP: holds the sessions, runs one shared tick for heartbeats
 * and transcript batches (no timer per session), attaches, detaches, drains.
 */
export class WorkerCore {
  readonly sessions = new Map<string, SidebandSession>();
  private readonly pending = new Map<string, Promise<SidebandSession>>();
  readonly transcripts: TranscriptBatcher;
  readonly executor: ToolExecutor;
  readonly stats = { events: 0, toolCalls: 0, heartbeatsSent: 0, heartbeatFailures: 0, attaches: 0 };
  draining = false;
  private timer: NodeJS.Timeout | undefined;
  private lastHeartbeat = 0;
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  /** Each held session's caller (identity for the MCP servers, tool-call budget). */
  private readonly callers = new Map<string, SessionCaller>();
  private readonly identityKey?: Uint8Array;

  constructor(private readonly deps: WorkerCoreDeps) {
    this.log = deps.log ?? (() => {});
    this.now = deps.now ?? Date.now;
    this.identityKey = deps.identitySecret ? identityKey(deps.identitySecret) : undefined;
    this.transcripts = new TranscriptBatcher({ history: deps.history, log: this.log });
    this.executor = new ToolExecutor({
      workerId: deps.workerId,
      gateway: deps.gateway,
      store: deps.toolRuns,
      publisher: deps.publisher,
      now: this.now,
      log: this.log,
      callerOf: (sessionId) => this.callers.get(sessionId),
      rawOutputToPage: deps.rawToolOutputToPage,
    });
  }

  get workerId() {
    return this.deps.workerId;
  }

  get ready() {
    return !this.draining && this.sessions.size + this.pending.size < this.deps.maxSessions;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.deps.tickMs ?? 250);
    this.timer.unref();
  }

  /** Attach is idempotent per session: a repeated or concurrent attach returns the same socket. */
  async attach(body: AttachBody): Promise<{ already: boolean }> {
    if (body.provider && this.deps.provider && body.provider !== this.deps.provider) {
      throw new AttachError(
        409,
        'provider_mismatch',
        `this worker talks to ${this.deps.provider}, not ${body.provider}`,
      );
    }
    if (body.avoidWorkers.includes(this.deps.workerId)) {
      // The lifecycle declared this worker lost for the session: let go of any socket still held and send the
      // attach elsewhere (the balancer / client moves on after a 503).
      this.detach(body.sessionId, 'declared lost by the lifecycle');
      throw new AttachError(503, 'worker_avoided', 'this worker lost the session; attach it on another replica');
    }
    const held = this.sessions.get(body.sessionId);
    if (held && held.attach.callId === body.callId) return { already: true };
    // A resumed session comes back with a new call: the socket on the old one has nothing left to do.
    if (held) this.detach(body.sessionId, `replaced by call ${callRef(body.callId)}`);
    const inFlight = this.pending.get(body.sessionId);
    if (inFlight) return inFlight.then(() => ({ already: true }));
    if (this.draining) throw new AttachError(503, 'draining', 'this worker is draining; attach elsewhere');
    if (!this.ready)
      throw new AttachError(503, 'at_capacity', `this worker holds its maximum of ${this.deps.maxSessions} sessions`);
    const p = this.open(body);
    this.pending.set(body.sessionId, p);
    try {
      const s = await p;
      this.sessions.set(body.sessionId, s);
      this.stats.attaches++;
      return { already: false };
    } finally {
      this.pending.delete(body.sessionId);
    }
  }

  /**
   * The agent a session speaks as: the one it started with, or after a handoff (a takeover reads the row) the one it
   * was handed to, at that agent's current version.
   */
  private async currentAgent(body: AttachBody): Promise<AgentDefinition | undefined> {
    const handedTo =
      body.attempt > 0
        ? await this.deps.sessionInfo?.(body.sessionId).then(
            (row) => row?.currentAgentId,
            () => undefined,
          )
        : undefined;
    if (handedTo && handedTo !== body.agentId) {
      const to = await this.deps.agents.get(handedTo);
      if (to) return to;
    }
    // The agent the session started with, at the version it started with (it may have changed or retired since).
    const version = body.context?.agentVersion;
    return version && this.deps.agents.getVersion
      ? this.deps.agents.getVersion(body.agentId, version)
      : this.deps.agents.get(body.agentId);
  }

  private handoffs() {
    return handoffs({
      agents: this.deps.agents,
      sessionFor: async (agent, sessionId, transport) =>
        this.deps.sessionConfig(agent, await this.deps.gateway.toolsFor(agent), sessionId, transport),
      changed: async (e) => {
        const at = this.now();
        await Promise.all([
          this.deps.onAgentChanged?.(e.sessionId, e.to),
          this.deps.publisher.publish({
            type: 'agent',
            sessionId: e.sessionId,
            agentId: e.to,
            displayName: e.displayName,
            from: e.from,
            at,
          }),
        ]);
      },
    });
  }

  private async open(body: AttachBody): Promise<SidebandSession> {
    const agent = await this.currentAgent(body);
    if (!agent) throw new AttachError(422, 'unknown_agent', `agent ${body.agentId} does not exist`);
    const [tools, info] = await Promise.all([
      this.deps.gateway.toolsFor(agent),
      // The lifecycle carries the row's context in the attach; older records (or tests) fall back to reading it.
      body.context ??
        this.deps.sessionInfo?.(body.sessionId).catch((err) => {
          this.log(`session row of ${body.sessionId} unreadable (${(err as Error).message}); using defaults`);
          return undefined;
        }),
    ]);
    const partition = info?.historyPartition ?? historyPartitionForCaller(body);
    const caller = this.identityKey
      ? new SessionCaller(callerIdentityFor(body), this.identityKey, this.deps.toolCallsPerSession)
      : undefined;
    if (caller) this.callers.set(body.sessionId, caller);
    const seed = this.deps.seed;
    const memory = verifiedMemory({ caller, partition, seed: seed && ((s) => seed.call(this.deps, s)) });
    const sessionConfig = this.deps.sessionConfig(agent, tools, body.sessionId, body.transport);
    // traceparent: the session row's trace (POST /api/sessions or the SIP webhook), so worker spans join it.
    const observer = this.deps.observe?.({
      sessionId: body.sessionId,
      agentId: body.agentId,
      callId: body.callId,
      attempt: body.attempt,
      partition,
      traceparent: info?.traceparent,
      model: typeof sessionConfig.model === 'string' ? sessionConfig.model : undefined,
    });
    const session = new SidebandSession(
      {
        observer,
        extensions: [this.handoffs(), ...(this.deps.extensions ?? []), ...(memory.extension ? [memory.extension] : [])],
        claimCall: this.deps.calls ? (callId, sessionId) => this.deps.calls!.claim(callId, sessionId) : undefined,
        protocol: protocolFor(this.deps.provider as ProviderName | undefined),
        workerId: this.deps.workerId,
        openSideband: this.deps.openSideband,
        executor: this.executor,
        transcripts: this.transcripts,
        publisher: this.deps.publisher,
        seed: memory.seed,
        report: async (sessionId, report) => {
          this.sessions.delete(sessionId);
          this.callers.delete(sessionId);
          // The session's last items are stored before the lifecycle hears of the end (the summary reads them).
          await this.transcripts.flush().catch(logFailure(this.log, `flushing the transcript of ${sessionId}`));
          await this.deps.lifecycle.report(sessionId, report).catch((err: unknown) => {
            // The lifecycle's watchdog still notices (missed heartbeats), only later: count it.
            recordReportFailure({ type: report.type });
            logFailure(this.log, `reporting ${report.type} for ${sessionId}`)(err);
          });
        },
        log: this.log,
        now: this.now,
        reconnectDelaysMs: this.deps.reconnectDelaysMs ?? [250, 500, 1000, 2000, 4000],
        logTranscripts: this.deps.logTranscripts ?? false,
        stats: this.stats,
      },
      body,
      { agent, session: sessionConfig, partition, resume: info?.resume },
    );
    try {
      await session.start();
    } catch (err) {
      session.stop('attach failed', true);
      this.callers.delete(body.sessionId);
      if (err instanceof CallNotBoundError) {
        this.log(`attach ${body.sessionId} refused: ${err.message}`);
        throw new AttachError(409, 'call_not_bound', 'the call was not made for this session');
      }
      const status = (err as { status?: number }).status;
      if (status === 404 || status === 410)
        throw new AttachError(404, 'call_not_found', `call ${callRef(body.callId)} is not active`);
      throw new AttachError(502, 'sideband_failed', `could not open the sideband: ${(err as Error).message}`);
    }
    return session;
  }

  detach(sessionId: string, reason: string): boolean {
    const s = this.sessions.get(sessionId);
    if (!s) return false;
    this.sessions.delete(sessionId);
    this.callers.delete(sessionId);
    s.stop(reason);
    this.log(`detached ${sessionId}: ${reason}`);
    return true;
  }

  /** Detach for the lifecycle (POST /detach): answers after the session's last transcript items are written. */
  async detachAndFlush(sessionId: string, reason: string): Promise<boolean> {
    const held = this.detach(sessionId, reason);
    if (held) await this.transcripts.flush();
    return held;
  }

  /** One pass of the shared tick: transcript batches always, heartbeats when due. */
  async tick(): Promise<void> {
    for (const s of this.sessions.values()) s.settleTranscript();
    const flush = this.transcripts.flush();
    if (this.now() - this.lastHeartbeat >= this.deps.heartbeatIntervalMs) {
      this.lastHeartbeat = this.now();
      await Promise.all([flush, this.heartbeat()]);
    } else {
      await flush;
    }
  }

  async heartbeat(): Promise<void> {
    const ids = [...this.sessions.keys()];
    for (let i = 0; i < ids.length; i += HEARTBEAT_CHUNK) {
      const chunk = ids.slice(i, i + HEARTBEAT_CHUNK);
      try {
        const res = await this.deps.lifecycle.heartbeats({
          workerId: this.deps.workerId,
          sessionIds: chunk,
          at: this.now(),
        });
        this.stats.heartbeatsSent += chunk.length;
        for (const id of res.drop) this.detach(id, 'the lifecycle no longer gives this worker the session');
      } catch (err) {
        this.stats.heartbeatFailures++;
        this.log(`heartbeat failed: ${(err as Error).message}`);
      }
    }
  }

  /**
   * SIGTERM: stop taking attaches, tell the lifecycle each session needs another worker, wait (bounded) for
   * them to move, then close what is left and write the last transcript batch.
   */
  async drain(timeoutMs: number): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    this.log(`draining ${this.sessions.size} session(s)`);
    await Promise.all(
      [...this.sessions.keys()].map((id) =>
        this.deps.lifecycle
          .report(id, { type: 'workerLost', workerId: this.deps.workerId, reason: 'worker draining' })
          .catch((err) => this.log(`drain report for ${id} failed: ${(err as Error).message}`)),
      ),
    );
    const deadline = this.now() + timeoutMs;
    while (this.sessions.size > 0 && this.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      // Heartbeats now come back with `drop` for sessions another worker took.
      await this.heartbeat();
    }
    for (const id of [...this.sessions.keys()]) this.detach(id, 'drain timeout');
    // Tools still running finish and store their outputs for the sessions' new workers to deliver.
    await this.executor.settle(Math.max(0, deadline - this.now()) + 2000);
    await this.transcripts.flush();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const id of [...this.sessions.keys()]) this.detach(id, 'worker stopping');
    await this.transcripts.flush();
  }
}
