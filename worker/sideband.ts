import type WebSocket from 'ws';
import type { AgentDefinition } from '../shared/agents/schema';
import type { SessionEventPublisher } from '../shared/events/types';
import { historyPartitionForCaller } from '../shared/memory/types';
import { logFailure } from '../shared/telemetry/log';
import type { SessionConfig } from '../shared/providers/types';
import { ServerEventBus } from '../shared/realtime/dispatch';
import type { ObservedEvent, RealtimeClientEvent } from '../shared/realtime/events';
import { decodedList, deltaMatcher, gaProtocol, type RealtimeProtocol } from '../shared/realtime/protocol';
import type { AttachBody, WorkerReport } from '../shared/worker-client/api';
import { CallNotBoundError, verifyCallBinding, type VerifiedSideband } from './call-binding';
import { ResponseGate } from './response-gate';
import { SessionTranscript } from './session-transcript';
import type { TranscriptBatcher } from './transcripts';
import type { ToolExecutor } from './tools';
import { ToolTurns, type BuiltinTool } from './tool-turns';

/**
 * Per-session hooks for telemetry and accounting (turn latency, token usage, tool spans). Deltas are not
 * parsed: the observer sees them as `{ type }` only, which is all timing needs.
 */
export interface SessionObserver {
  onServerEvent?(event: ObservedEvent, atMs: number): void;
  toolCall?<R extends { isError: boolean; durationMs?: number } | undefined>(
    call: { name: string; callId: string },
    fn: () => Promise<R>,
  ): Promise<R>;
  reconnected?(reason?: string): void;
  end?(outcome: { reason: string; failed?: boolean }): void | Promise<void>;
}

export interface SidebandDeps {
  workerId: string;
  openSideband(callId: string): Promise<WebSocket>;
  executor: ToolExecutor;
  transcripts: TranscriptBatcher;
  publisher: SessionEventPublisher;
  /** Context seeding (memory): events sent once, on the first attach of a session. */
  seed?(s: { sessionId: string; agentId: string; partition: string; resume?: boolean }): Promise<unknown[]>;
  report(sessionId: string, report: WorkerReport): Promise<void>;
  log(line: string): void;
  now(): number;
  /** Delays between sideband reconnect attempts; when they run out the session is reported failed. */
  reconnectDelaysMs: number[];
  logTranscripts: boolean;
  stats: { events: number; toolCalls: number };
  observer?: SessionObserver;
  /** The provider's wire protocol; GA Realtime when not given. */
  protocol?: RealtimeProtocol;
  /** Worker-side features that hook into every session (see SidebandExtension). */
  extensions?: readonly SidebandExtension[];
  /** Claims the call for the session (one session per call); answers the session that holds it. */
  claimCall?(callId: string, sessionId: string): Promise<string>;
}

/**
 * What a worker-side feature sees of one session: it subscribes to server events, asks the gate for responses,
 * sends client events, and may end the session. Extensions are called once per session, after the first
 * connection is up and before any server event is dispatched.
 */
export interface SidebandContext {
  readonly sessionId: string;
  readonly attach: AttachBody;
  readonly prepared: PreparedAgent;
  readonly events: ServerEventBus;
  readonly gate: ResponseGate;
  send(event: RealtimeClientEvent): void;
  stop(reason: string, failed?: boolean): void;
  log(line: string): void;
  /** Answers the function calls of this name here (only while the current agent's session declares the tool). */
  builtin(name: string, tool: BuiltinTool): void;
  /** Adds a line to the transcript (history and page) that no server event carries, a keypad entry say. */
  record(itemId: string, role: 'user' | 'assistant', text: string): void;
  /**
   * Makes another agent the session's: its instructions and tools (and voice where the caller has heard none
   * yet) go to the service at once and on every reconnect; tool calls and the session lock follow it.
   */
  switchAgent(agent: AgentDefinition, session: SessionConfig): void;
  /** The service is about to end the call on purpose (a transfer): a closing socket is no drop to reconnect. */
  expectCallEnd(expected: boolean): void;
}

/** A feature's hook; what it returns is called when the session stops. */
export type SidebandExtension = (ctx: SidebandContext) => void | (() => void);

export interface PreparedAgent {
  agent: AgentDefinition;
  session: SessionConfig;
  /** From the session row when there is one; derived from the attach otherwise. */
  partition?: string;
  /** false: the user asked to start without earlier conversations; undefined: not known here. */
  resume?: boolean;
}

/** Deltas are the bulk of sideband traffic and carry nothing the worker needs: skip them before JSON.parse. */
const skipFor = new Map<string, RegExp>();
const skipper = (p: RealtimeProtocol) => skipFor.get(p.name) ?? skipFor.set(p.name, deltaMatcher(p)).get(p.name)!;

/** How long a speaker pauses before their transcript item counts as complete (the SDK's grouper waits 2 s). */
const TRANSCRIPT_PAUSE_MS = 1500;
export { outputItemId } from './tool-turns';

/**
 * One session's sideband socket: applies the agent's settings, dispatches server events (typed as GA Realtime
 * events) to the modules that own them — the response gate, the transcript, tool calls, extensions — and
 * reconnects with backoff when the socket drops.
 */
export class SidebandSession {
  private ws: WebSocket | undefined;
  private closed = false;
  private outbox: { data: string; onSent?: () => void; onDropped?: () => void }[] = [];
  private extensionsStarted = false;
  private bound = false;
  private endExpected = false;
  private readonly cleanups: (() => void)[] = [];
  readonly partition: string;
  readonly events: ServerEventBus;
  readonly gate: ResponseGate;
  private readonly transcript: SessionTranscript;
  private readonly tools: ToolTurns;
  private readonly protocol: RealtimeProtocol;
  private readonly skip: RegExp;
  lastEventAt = 0;

  constructor(
    private readonly deps: SidebandDeps,
    readonly attach: AttachBody,
    private readonly prepared: PreparedAgent,
  ) {
    this.partition = prepared.partition ?? historyPartitionForCaller(attach);
    this.protocol = deps.protocol ?? gaProtocol;
    this.skip = skipper(this.protocol);
    this.events = new ServerEventBus((err, type) =>
      deps.log(`sideband ${attach.sessionId}: handler for ${type} failed: ${(err as Error).message}`),
    );
    this.gate = new ResponseGate({ send: (e) => this.send(e), log: deps.log, idPrefix: 'wk' });
    this.transcript = new SessionTranscript({
      sessionId: attach.sessionId,
      agentId: attach.agentId,
      partition: this.partition,
      transcripts: deps.transcripts,
      publisher: deps.publisher,
      now: deps.now,
      log: deps.log,
      logTranscripts: deps.logTranscripts,
    });
    this.events.onAny((e) => this.gate.onServerEvent(e));
    this.events.onAny((e) => this.transcript.onServerEvent(e));
    this.tools = new ToolTurns({
      sessionId: attach.sessionId,
      partition: this.partition,
      prepared,
      sidebandDeps: deps,
      gate: this.gate,
      transcript: this.transcript,
      send: (e, onSent, onDropped) => this.send(e, onSent, onDropped),
      closed: () => this.closed,
      // A service that acknowledges delegated calls itself says its own "one moment".
      progressLines: !this.protocol.acknowledgesDelegations,
    });
    this.events.on('response.function_call_arguments.done', (e) => void this.tools.onFunctionCall(e));
    this.events.on('error', (e) =>
      deps.log(`sideband ${this.sessionId} server error ${e.error?.code ?? ''}: ${e.error?.message ?? ''}`),
    );
  }

  get sessionId() {
    return this.attach.sessionId;
  }
  get open() {
    return !this.closed && this.ws?.readyState === 1;
  }

  /** Opens the socket and applies the session; throws if the sideband cannot be opened (the attach fails). */
  async start(): Promise<void> {
    await this.connect();
    this.startExtensions();
    if (this.attach.attempt === 0) {
      const events = this.deps.seed
        ? await this.deps
            .seed({
              sessionId: this.sessionId,
              agentId: this.attach.agentId,
              partition: this.partition,
              resume: this.prepared.resume,
            })
            .catch((err) => {
              this.deps.log(`context seeding skipped for ${this.sessionId}: ${(err as Error).message}`);
              return [];
            })
        : [];
      for (const e of events) this.send(e as RealtimeClientEvent);
    } else {
      // A takeover: deliver what the lost worker ran but never sent (or mark it interrupted).
      const outputs = await this.deps.executor.recover(this.sessionId);
      if (outputs.length) this.tools.deliver(outputs);
    }
  }

  private startExtensions() {
    if (this.extensionsStarted || this.closed) return;
    this.extensionsStarted = true;
    const ctx: SidebandContext = {
      sessionId: this.sessionId,
      attach: this.attach,
      prepared: this.prepared,
      events: this.events,
      gate: this.gate,
      send: (e) => this.send(e),
      stop: (reason, failed) => this.stop(reason, failed),
      log: this.deps.log,
      builtin: (name, tool) => this.tools.builtins.set(name, tool),
      record: (itemId, role, text) => this.transcript.record(itemId, role, text),
      switchAgent: (agent, session) => this.switchAgent(agent, session),
      expectCallEnd: (expected) => {
        this.endExpected = expected;
      },
    };
    for (const ext of this.deps.extensions ?? []) {
      const cleanup = ext(ctx);
      if (cleanup) this.cleanups.push(cleanup);
    }
  }

  private switchAgent(agent: AgentDefinition, session: SessionConfig) {
    this.prepared.agent = agent;
    this.prepared.session = session;
    this.transcript.agentId = agent.id;
    this.sendSession();
  }

  /** `model` is fixed when the call starts; everything else is (re)applied from the server-side agent. */
  private sendSession() {
    const { model: _model, ...session } = this.prepared.session as SessionConfig & { model?: string };
    this.send({ type: 'session.update', session });
  }

  private async connect(): Promise<void> {
    const ws = await this.deps.openSideband(this.attach.callId);
    if (this.closed) {
      ws.close(1000);
      return;
    }
    // Before a word is said on it, the call must prove it was made for this session (a page can report any id).
    const verified = await this.verifyBinding(ws);
    this.ws = ws;
    ws.on('message', (data) => this.onMessage(data.toString()));
    verified?.release();
    for (const text of verified?.later ?? []) this.onMessage(text);
    ws.on('error', (err) => this.deps.log(`sideband ${this.sessionId} error: ${err.message}`));
    ws.on('close', () => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      // An item the connection ended in the middle of is complete as far as anyone will hear.
      for (const ev of this.protocol.flush?.() ?? []) this.events.emit(ev);
      this.gate.disconnected();
      if (!this.closed && !this.endExpected) void this.reconnect();
    });
    this.sendSession();
    const queued = this.outbox.splice(0);
    for (const q of queued) this.sendRaw(q.data, q.onSent, q.onDropped);
    this.gate.connected();
  }
  /** On the first connection only; a reconnect is to the call already proven ours. */
  private async verifyBinding(ws: WebSocket): Promise<VerifiedSideband | undefined> {
    if (this.bound) return undefined;
    const verified =
      this.protocol.bindsCallByReference === false ? undefined : await verifyCallBinding(ws, this.sessionId);
    const owner = await this.deps.claimCall?.(this.attach.callId, this.sessionId);
    if (owner && owner !== this.sessionId) {
      ws.close(1000);
      throw new CallNotBoundError('the call is claimed by another session');
    }
    this.bound = true;
    return verified;
  }

  private async reconnect(): Promise<void> {
    for (const delay of this.deps.reconnectDelaysMs) {
      await new Promise((r) => setTimeout(r, delay));
      if (this.closed) return;
      try {
        await this.connect();
        this.deps.log(`sideband ${this.sessionId} reconnected`);
        this.deps.observer?.reconnected?.('socket dropped');
        return;
      } catch (err) {
        const status = (err as { status?: number }).status;
        if (status === 404 || status === 410) {
          // The call is gone: the caller hung up or the service ended it.
          this.deps.log(`sideband ${this.sessionId}: call ended (${status})`);
          this.stop('call ended');
          await this.deps
            .report(this.sessionId, { type: 'ended', workerId: this.deps.workerId, reason: 'call ended' })
            .catch(logFailure(this.deps.log, `sideband ${this.sessionId}: reporting ended`));
          return;
        }
        this.deps.log(`sideband ${this.sessionId} reconnect failed: ${(err as Error).message}`);
      }
    }
    if (this.closed) return;
    this.stop('sideband lost', true);
    await this.deps
      .report(this.sessionId, { type: 'failed', workerId: this.deps.workerId, reason: 'sideband lost' })
      .catch(logFailure(this.deps.log, `sideband ${this.sessionId}: reporting failed`));
  }

  /**
   * Closes the socket for good (detach, drain, end). A tool still running is not cancelled: it finishes and
   * stores its real output, which the session's next worker delivers (cancelling could hide a side effect).
   */
  stop(reason = 'detached', failed = false): void {
    if (this.closed) return;
    this.closed = true;
    void Promise.resolve(this.deps.observer?.end?.({ reason, failed })).catch((err) =>
      this.deps.log(`session ${this.sessionId} observer end failed: ${(err as Error).message}`),
    );
    this.gate.close();
    for (const c of this.cleanups.splice(0)) c();
    this.ws?.close(1000);
    this.ws = undefined;
    this.deps.executor.forget(this.sessionId);
    for (const q of this.outbox.splice(0)) q.onDropped?.();
  }

  /** On the worker's tick: a transcript item whose speaker paused is complete (providers that send no "done"). */
  settleTranscript(): void {
    for (const ev of this.protocol.flush?.(TRANSCRIPT_PAUSE_MS) ?? []) this.events.emit(ev);
  }

  private send(event: RealtimeClientEvent, onSent?: () => void, onDropped?: () => void) {
    const wire = this.protocol.encode(event);
    if (wire) this.sendRaw(JSON.stringify(wire), onSent, onDropped);
    else onDropped?.();
  }

  private sendRaw(data: string, onSent?: () => void, onDropped?: () => void) {
    const ws = this.ws;
    if (!ws || ws.readyState !== 1) {
      if (!this.closed) this.outbox.push({ data, onSent, onDropped });
      else onDropped?.();
      return;
    }
    ws.send(data, (err) => {
      if (!err) onSent?.();
      else if (!this.closed) this.outbox.push({ data, onSent, onDropped });
      else onDropped?.();
    });
  }

  private onMessage(text: string) {
    this.deps.stats.events++;
    const at = (this.lastEventAt = this.deps.now());
    const skipped = this.skip.exec(text.slice(0, 200));
    const deltaType = skipped && this.protocol.deltas.get(skipped[1]!);
    if (deltaType) {
      this.deps.observer?.onServerEvent?.({ type: deltaType, skipped: true }, at);
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return;
    }
    for (const ev of decodedList(this.protocol.decode(raw))) {
      this.deps.observer?.onServerEvent?.(ev, at);
      this.events.emit(ev);
    }
  }
}
