import { createHash } from 'node:crypto';
import type WebSocket from 'ws';
import type { AgentDefinition } from '../shared/agents/schema';
import type { SessionEventPublisher } from '../shared/events/types';
import { TOOL_PROGRESS_AFTER_MS, toolProgressEvent } from '../shared/mcp/output';
import type { SessionConfig } from '../shared/providers/types';
import type { AttachBody, WorkerReport } from '../shared/worker-client/api';
import type { TranscriptBatcher } from './transcripts';
import type { DeliverableOutput, ToolExecutor } from './tools';

/**
 * Per-session hooks for telemetry and accounting (turn latency, token usage, tool spans). Deltas are not
 * parsed: the observer sees them as `{ type }` only, which is all timing needs.
 */
export interface SessionObserver {
  onServerEvent?(event: { type?: unknown; [k: string]: unknown }, atMs: number): void;
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
}

export interface PreparedAgent {
  agent: AgentDefinition;
  session: SessionConfig;
  /** From the session row when there is one; derived from the attach otherwise. */
  partition?: string;
  /** false: the user asked to start without earlier conversations; undefined: not known here. */
  resume?: boolean;
}

/** Deltas are the bulk of sideband traffic and carry nothing the worker needs: skip them before JSON.parse. */
const SKIP =
  /"type"\s*:\s*"(response\.output_audio\.delta|response\.output_audio_transcript\.delta|response\.output_text\.delta|response\.function_call_arguments\.delta|conversation\.item\.input_audio_transcription\.delta)"/;

/** Output items get ids we choose, so re-sending one after a takeover is recognisably the same item. */
export const outputItemId = (callId: string) =>
  `fco_${createHash('sha256').update(callId).digest('base64url').slice(0, 24)}`;
const isSeeded = (id: string | undefined) => Boolean(id?.startsWith('mem_'));

type ServerEvent = { type: string; [k: string]: unknown };
type Item = {
  id?: string;
  type?: string;
  role?: string;
  content?: { type?: string; text?: string; transcript?: string | null }[];
};

/**
 * One session's sideband socket: applies the agent's settings, runs function calls through the tool executor,
 * records completed transcript items, and reconnects with backoff when the socket drops.
 */
export class SidebandSession {
  private ws: WebSocket | undefined;
  private closed = false;
  private responseActive = false;
  private idleWaiters: (() => void)[] = [];
  private outbox: { data: string; onSent?: () => void; onDropped?: () => void }[] = [];
  private toolsRunning = 0;
  private responsePending = false;
  private assumedActive = false;
  private readonly recorded = new Set<string>();
  readonly partition: string;
  lastEventAt = 0;

  constructor(
    private readonly deps: SidebandDeps,
    readonly attach: AttachBody,
    private readonly prepared: PreparedAgent,
  ) {
    this.partition = prepared.partition ?? historyPartitionFor(attach);
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
      for (const e of events) this.send(e);
    } else {
      // A takeover: deliver what the lost worker ran but never sent (or mark it interrupted).
      const outputs = await this.deps.executor.recover(this.sessionId);
      if (outputs.length) this.deliver(outputs);
    }
  }

  private async connect(): Promise<void> {
    const ws = await this.deps.openSideband(this.attach.callId);
    if (this.closed) {
      ws.close(1000);
      return;
    }
    this.ws = ws;
    this.responseActive = false;
    ws.on('message', (data) => this.onMessage(data.toString()));
    ws.on('error', (err) => this.deps.log(`sideband ${this.sessionId} error: ${err.message}`));
    ws.on('close', () => {
      if (this.ws === ws) this.ws = undefined;
      this.wakeIdle();
      if (!this.closed) void this.reconnect();
    });
    // `model` is fixed when the call starts; everything else is (re)applied from the server-side agent.
    const { model: _model, ...session } = this.prepared.session as SessionConfig & { model?: string };
    this.send({ type: 'session.update', session });
    const queued = this.outbox.splice(0);
    for (const q of queued) this.sendRaw(q.data, q.onSent, q.onDropped);
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
            .catch(() => {});
          return;
        }
        this.deps.log(`sideband ${this.sessionId} reconnect failed: ${(err as Error).message}`);
      }
    }
    if (this.closed) return;
    this.stop('sideband lost', true);
    await this.deps
      .report(this.sessionId, { type: 'failed', workerId: this.deps.workerId, reason: 'sideband lost' })
      .catch(() => {});
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
    this.wakeIdle();
    this.ws?.close(1000);
    this.ws = undefined;
    this.deps.executor.forget(this.sessionId);
    for (const q of this.outbox.splice(0)) q.onDropped?.();
  }

  private send(event: unknown, onSent?: () => void, onDropped?: () => void) {
    this.sendRaw(JSON.stringify(event), onSent, onDropped);
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
    const skipped = SKIP.exec(text.slice(0, 200));
    if (skipped) {
      this.deps.observer?.onServerEvent?.({ type: skipped[1] }, at);
      return;
    }
    let ev: ServerEvent;
    try {
      ev = JSON.parse(text) as ServerEvent;
    } catch {
      return;
    }
    this.deps.observer?.onServerEvent?.(ev, at);
    switch (ev.type) {
      case 'response.created':
        this.responseActive = true;
        this.assumedActive = false;
        break;
      case 'response.done':
        this.responseActive = false;
        this.wakeIdle();
        break;
      case 'response.function_call_arguments.done':
        void this.onFunctionCall(ev);
        break;
      case 'conversation.item.input_audio_transcription.completed':
        this.record(String(ev.item_id ?? ''), 'user', String(ev.transcript ?? ''));
        break;
      case 'conversation.item.added':
      case 'conversation.item.done':
      case 'conversation.item.created': {
        // Typed user messages never get a transcription event; their text is the content.
        const item = ev.item as Item | undefined;
        if (item?.type === 'message' && item.role === 'user') {
          const text = (item.content ?? [])
            .filter((c) => c.type === 'input_text')
            .map((c) => c.text ?? '')
            .join(' ')
            .trim();
          if (text) this.record(item.id ?? '', 'user', text);
        }
        break;
      }
      case 'response.output_item.done': {
        const item = ev.item as Item | undefined;
        if (item?.type === 'message' && item.role === 'assistant') {
          const text = (item.content ?? [])
            .map((c) => c.transcript ?? c.text ?? '')
            .join(' ')
            .trim();
          if (text) this.record(item.id ?? '', 'assistant', text);
        }
        break;
      }
      case 'error': {
        const e = ev.error as { code?: string; message?: string } | undefined;
        this.deps.log(`sideband ${this.sessionId} server error ${e?.code ?? ''}: ${e?.message ?? ''}`);
        if (this.assumedActive) {
          // Our response.create was refused: nothing is active on our account.
          this.assumedActive = false;
          this.responseActive = false;
          this.wakeIdle();
        }
        break;
      }
    }
  }

  private record(
    itemId: string,
    role: 'user' | 'assistant' | 'tool',
    text: string,
    extra: { callId?: string; toolName?: string } = {},
  ) {
    if (!itemId || isSeeded(itemId) || this.recorded.has(itemId)) return;
    this.recorded.add(itemId);
    const at = this.deps.now();
    this.deps.transcripts.add(this.partition, {
      itemId,
      sessionId: this.sessionId,
      agentId: this.attach.agentId,
      role,
      text,
      at,
      ...extra,
    });
    if (this.deps.logTranscripts) this.deps.log(`[${this.sessionId}] ${role}: ${text}`);
    if (role !== 'tool') {
      void this.deps.publisher
        .publish({ type: 'transcript', sessionId: this.sessionId, itemId, role, text, at })
        .catch(() => {});
    }
  }

  private async onFunctionCall(ev: ServerEvent) {
    const call = {
      callId: String(ev.call_id ?? ''),
      name: String(ev.name ?? ''),
      arguments: String(ev.arguments ?? ''),
    };
    if (!call.callId || !call.name) return;
    this.toolsRunning++;
    this.deps.stats.toolCalls++;
    const progress = setTimeout(() => {
      // Long tool: let the model say "one moment" — only if nothing else is talking.
      if (!this.responseActive && !this.closed) this.send(toolProgressEvent(call.name));
    }, TOOL_PROGRESS_AFTER_MS);
    try {
      // Before a tool with side effects runs, the turn that led to it is written (alongside the claim), so a
      // worker killed mid-tool loses no transcript item; a failed write stays pending for the next tick.
      const durable = () => this.deps.transcripts.flushPartition(this.partition);
      const run = () => this.deps.executor.run(this.sessionId, this.prepared.agent, call, undefined, durable);
      const observer = this.deps.observer;
      const out = observer?.toolCall ? await observer.toolCall(call, run) : await run();
      if (out) this.sendOutputs([out]);
    } catch (err) {
      // Storage failed around the run; the next worker's recovery (or a retry of the call) deals with it.
      this.deps.log(`tool ${call.name} (${call.callId}) in ${this.sessionId} failed: ${(err as Error).message}`);
    } finally {
      clearTimeout(progress);
      this.toolsRunning--;
      void this.respondWhenIdle();
    }
  }

  private deliver(outputs: DeliverableOutput[]) {
    this.sendOutputs(outputs);
    void this.respondWhenIdle();
  }

  /** Sends outputs as items now; one `response.create` follows once no response is active and no tool runs. */
  private sendOutputs(outputs: DeliverableOutput[]) {
    this.responsePending = true;
    for (const o of outputs) {
      const id = outputItemId(o.callId);
      this.send(
        {
          type: 'conversation.item.create',
          item: { id, type: 'function_call_output', call_id: o.callId, output: o.output },
        },
        () => {
          void this.deps.executor
            .delivered(this.sessionId, o)
            .catch((err) => this.deps.log(`marking ${o.callId} delivered failed: ${(err as Error).message}`));
        },
        // Never sent (the session closed first): stored for the next worker to deliver.
        () => void this.deps.executor.undeliverable(this.sessionId, o),
      );
      this.record(id, 'tool', o.output, { callId: o.callId, toolName: o.name });
    }
  }

  /** Only one response may be active: wait for it, and let the last tool to finish ask for the next one. */
  private async respondWhenIdle() {
    if (!this.responsePending || this.toolsRunning > 0) return;
    while (this.responseActive && !this.closed) await new Promise<void>((r) => this.idleWaiters.push(r));
    if (this.closed || !this.responsePending || this.toolsRunning > 0) return;
    this.responsePending = false;
    // Until response.created/done (or an error) arrives, a second caller must not ask again.
    this.responseActive = true;
    this.assumedActive = true;
    this.send({ type: 'response.create' });
  }

  private wakeIdle() {
    const w = this.idleWaiters.splice(0);
    for (const r of w) r();
  }
}

/** Signed-in users keep history per user; phone callers per calling number (B passes `sip:<from>` as the user). */
export function historyPartitionFor(a: Pick<AttachBody, 'userId' | 'transport'>): string {
  if (a.transport === 'sip' || a.userId.startsWith('sip:')) return `sip:${a.userId.replace(/^sip:/, '')}`;
  return `user:${a.userId}`;
}
