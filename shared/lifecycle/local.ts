import type { LifecycleOperation, LifecyclePort } from './operations';
import { runEffects, type EffectDeps } from './effects';
import { isTerminal, reduce, workerShouldDrop, type ReduceResult, type LifecycleRecord } from './reducer';
import { supervisorDecision, type SupervisorTimeouts } from './supervisor';
import { EtagConflict, type LifecycleStore } from './store';
import { logFailure, logField } from '../telemetry/log';

const noop = () => {};

export interface LocalLifecycleOptions {
  store: LifecycleStore;
  effects: EffectDeps;
  maxReattachAttempts: number;
  timeouts: SupervisorTimeouts;
  /** How often the one shared watchdog timer looks at every watched session. */
  watchdogTickMs?: number;
  log?: (line: string) => void;
  now?: () => number;
}

/**
 * The lifecycle for the local runner: the same reducer the Durable entity applies, with the same guarantees —
 * one operation at a time per session (a per-session promise chain), the record persisted in Table Storage
 * with ETag checks before any effect runs — and the supervisor's job (effects, heartbeat watchdog,
 * re-attach) done in-process with one shared timer.
 */
export class LocalLifecycle implements LifecyclePort {
  private readonly queues = new Map<string, Promise<unknown>>();
  private readonly cache = new Map<string, { record: LifecycleRecord; etag: string }>();
  /** Sessions whose attach effect is running: the watchdog leaves them to the attach's own deadline. */
  private readonly attaching = new Set<string>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private timer: NodeJS.Timeout | undefined;
  private readonly log: (line: string) => void;
  private readonly now: () => number;
  readonly stats = { applied: 0, rejected: 0, writes: 0, conflicts: 0 };

  constructor(private readonly opts: LocalLifecycleOptions) {
    this.log = opts.log ?? (() => {});
    this.now = opts.now ?? Date.now;
  }

  /** Re-arms the watchdog for sessions a previous run left active, and starts the shared timer. */
  async start(): Promise<void> {
    const now = this.now();
    for (const v of await this.opts.store.active()) {
      // Heartbeats are not persisted: give live sessions one full timeout from now before judging their worker.
      const record =
        v.record.state === 'live'
          ? { ...v.record, lastHeartbeatAt: Math.max(v.record.lastHeartbeatAt ?? 0, now) }
          : v.record;
      this.cache.set(v.record.sessionId, { record, etag: v.etag });
    }
    if (!this.timer) {
      this.timer = setInterval(() => this.watch(), this.opts.watchdogTickMs ?? 250);
      this.timer.unref();
    }
  }

  /** Stops the watchdog and waits (bounded) for effects in flight. */
  async stop(waitMs = 2000): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    let t: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => (t = setTimeout(r, waitMs)))]);
    clearTimeout(t);
  }

  signal(sessionId: string, op: LifecycleOperation): Promise<void> {
    return this.apply(sessionId, op).then(() => undefined);
  }

  /** Applies one operation after every earlier one for the session; effects run after, outside the queue. */
  apply(sessionId: string, op: LifecycleOperation): Promise<ReduceResult> {
    const prev = this.queues.get(sessionId) ?? Promise.resolve();
    // The earlier operation's failure went to its own caller; this one runs after it either way.
    const next = prev.then(noop, noop).then(() => this.applyNow(sessionId, op));
    this.queues.set(sessionId, next);
    const forget = () => {
      if (this.queues.get(sessionId) === next) this.queues.delete(sessionId);
    };
    void next.then(forget, forget);
    return next;
  }

  /** The current record (memory first; storage when this process has not seen the session). */
  async get(sessionId: string): Promise<LifecycleRecord | undefined> {
    const cached = this.cache.get(sessionId);
    if (cached) return cached.record;
    const v = await this.opts.store.load(sessionId);
    if (v) this.cache.set(sessionId, v);
    return v?.record;
  }

  /** Sessions held and workers holding them (the worker fleet's scale signal). */
  scale(): { liveSessions: number; workers: number } {
    const workers = new Set<string>();
    let liveSessions = 0;
    for (const { record } of this.cache.values()) {
      if (record.state !== 'live') continue;
      liveSessions++;
      if (record.workerId) workers.add(record.workerId);
    }
    return { liveSessions, workers: workers.size };
  }

  /** Heartbeats from one worker; returns the sessions it should let go of. */
  async heartbeats(workerId: string, sessionIds: string[], at: number): Promise<string[]> {
    const drop: string[] = [];
    await Promise.all(
      sessionIds.map(async (id) => {
        const r = await this.apply(id, { type: 'heartbeat', workerId, at });
        const s = r.record;
        if (workerShouldDrop(s, workerId)) {
          drop.push(id);
        }
      }),
    );
    return drop;
  }

  private async applyNow(sessionId: string, op: LifecycleOperation): Promise<ReduceResult> {
    for (let tries = 0; ; tries++) {
      // A new session's `requested` is inserted without a read first (a conflict means it existed: read, redo).
      const skipRead = tries === 0 && op.type === 'requested' && !this.cache.has(sessionId);
      const current = this.cache.get(sessionId) ?? (skipRead ? undefined : await this.opts.store.load(sessionId));
      const result = reduce(current?.record ?? null, op, {
        sessionId,
        maxReattachAttempts: this.opts.maxReattachAttempts,
      });
      if (result.rejected) {
        this.stats.rejected++;
        // Heartbeats racing a re-attach are routine; everything else is worth a line.
        if (op.type !== 'heartbeat')
          this.log(`lifecycle ${sessionId}: rejected ${op.type} (${logField(result.rejected.reason)})`);
        return result;
      }
      const next = result.record!;
      let etag = current?.etag;
      if (result.effects.some((e) => e.type === 'persist')) {
        try {
          etag = await this.opts.store.save(next, current?.etag);
          this.stats.writes++;
        } catch (err) {
          // Someone else wrote the row (another runner, a manual edit): re-read and decide again.
          if (err instanceof EtagConflict && tries < 3) {
            this.stats.conflicts++;
            this.cache.delete(sessionId);
            continue;
          }
          throw err;
        }
      }
      this.cache.set(sessionId, { record: next, etag: etag ?? '' });
      this.stats.applied++;
      if (isTerminal(next.state)) this.attaching.delete(sessionId);
      this.runEffectsLater(sessionId, result);
      return result;
    }
  }

  private runEffectsLater(sessionId: string, result: ReduceResult) {
    const work = result.effects.filter((e) => e.type !== 'persist');
    if (work.length === 0) return;
    const attach = work.some((e) => e.type === 'attach' || e.type === 'reattach');
    if (attach) this.attaching.add(sessionId);
    const p = (async () => {
      try {
        const follow = await runEffects(this.opts.effects, work);
        if (attach) this.attaching.delete(sessionId);
        for (const op of follow) {
          const r = await this.apply(sessionId, op);
          // A worker attached to a session that moved on (ended, or another worker won): let it go.
          if (r.rejected && op.type === 'attached') {
            await this.opts.effects.worker
              .detach(sessionId, 'attach no longer wanted')
              .catch(logFailure(this.log, `detach ${sessionId} (attach no longer wanted)`));
          }
        }
      } catch (err) {
        this.log(`lifecycle ${sessionId}: effects failed: ${(err as Error).message}`);
      } finally {
        if (attach) this.attaching.delete(sessionId);
      }
    })();
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** The shared watchdog tick: one pass over the watched sessions, no timer per session. */
  private watch() {
    const now = this.now();
    for (const [id, { record }] of this.cache) {
      if (this.attaching.has(id) || this.queues.has(id)) continue;
      const d = supervisorDecision(record, now, this.opts.timeouts);
      if (d.kind === 'stop') {
        this.cache.delete(id); // nothing to watch; a later read comes from storage
      } else if (d.kind === 'apply') {
        this.log(`lifecycle ${id}: watchdog applies ${d.op.type}${'reason' in d.op ? ` (${d.op.reason})` : ''}`);
        void this.apply(id, d.op).catch((err) =>
          this.log(`lifecycle ${id}: watchdog failed: ${(err as Error).message}`),
        );
      }
    }
  }
}
