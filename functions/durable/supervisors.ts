import df from 'durable-functions';
import type { LifecycleOperation } from '../../shared/lifecycle/operations';
import { isTerminal, type LifecycleRecord } from '../../shared/lifecycle/reducer';
import { supervisorDecision, type SupervisorTimeouts } from '../../shared/lifecycle/supervisor';
import type { WorkerEntityState } from './entity';
import { applyOperation, backoffMs, nowOf, sessionEntityOf, type Gen, type OrchestrationLike } from './operation';
import { FLEET_ENTITY, FLEET_KEY, SESSION_OPERATION_ORCHESTRATION, WORKER_ENTITY, operationInstanceId } from './names';

/** What the Durable supervisors need beyond the shared timeouts. */
export interface DurableWatchTimeouts extends SupervisorTimeouts {
  /** A live session's own supervisor checks its holder this often (the worker's supervisor is the liveness). */
  liveRecheckMs: number;
  /** How long an ended session may be resumed (its record is kept that long, plus a grace for clock skew). */
  resumeWindowMs: number;
  /** A worker holding nothing and silent this long: its supervisor retires. */
  workerIdleMs: number;
}

export const RESUME_GRACE_MS = 30_000;
/** The hint the client raises on a session's supervisor when it starts an end. */
export const WAKE_EVENT = 'wake';
const EXPECT_MS = 5000;

export interface SessionSupervisorInput {
  sessionId: string;
  startedAt?: number;
  /** Woken by a hint that an end is on its way: look again shortly rather than at the next deadline. */
  expecting?: boolean;
  /** `requested`, applied by the supervisor itself when it is the one starting the session. */
  op?: LifecycleOperation;
  checkedAt?: number;
  failures?: number;
}

/**
 * `sessionSupervisor` (instance `supervisor-<sessionId>`): the session's watchdog, one per session. It wakes
 * only at the session's own deadlines (nobody connected, attach overdue, hang-up stuck), rarely while live
 * (the holder's worker supervisor watches liveness; this one checks the holder every `liveRecheckMs`), and
 * once an ended session can no longer be resumed it deletes the session's entity state and stops. Every
 * failure inside is caught and retried on a durable timer with backoff: it never dies while the session is
 * active. Continues as new after every wake, so its history stays a few events long.
 */
export function sessionSupervisorOrchestrator(t: DurableWatchTimeouts) {
  return function* (context: OrchestrationLike): Gen<unknown> {
    const input = context.df.getInput<SessionSupervisorInput>();
    const { sessionId } = input;
    const startedAt = input.startedAt ?? nowOf(context);
    let checkedAt = input.checkedAt ?? startedAt;
    let expecting = false;
    // Every wait also listens for the `wake` hint the client raises when it starts an end: an ended session
    // is retired one resume window after its end, not at the next deadline.
    const sleepUntil = function* (until: number): Gen<void> {
      const timer = context.df.createTimer(new Date(until));
      const winner = yield context.df.Task.any([timer, context.df.waitForExternalEvent(WAKE_EVENT)]);
      if (winner !== timer) expecting = true;
    };
    try {
      const entity = sessionEntityOf(sessionId);
      // Watching comes first, so that the `requested` applied here finds the session watched.
      let record = (yield context.df.callEntity(entity, 'watch')) as LifecycleRecord | null;
      if (input.op) {
        yield* applyOperation(context, sessionId, input.op);
        record = (yield context.df.callEntity(entity, 'get')) as LifecycleRecord | null;
      }
      const now = nowOf(context);
      if (!record || isTerminal(record.state)) {
        const until = record ? record.stateSince + t.resumeWindowMs + RESUME_GRACE_MS : startedAt + t.missingGraceMs;
        if (now >= until) {
          const r = (yield context.df.callEntity(entity, 'retire')) as { retired: boolean; instances?: string[] };
          if (r.retired) return { stopped: record?.state ?? 'no session', instances: r.instances ?? [] };
        } else {
          yield* sleepUntil(until);
        }
      } else if (record.state === 'live') {
        if (now - checkedAt >= t.liveRecheckMs) {
          yield* checkHolder(context, record, t, now);
          checkedAt = now;
        }
        // After a wake hint the end may still be on its way: a short look, then the long one again.
        yield* sleepUntil(input.expecting ? now + EXPECT_MS : checkedAt + t.liveRecheckMs);
      } else {
        const d = supervisorDecision(record, now, t, startedAt);
        if (d.kind === 'apply') yield* applyOperation(context, sessionId, d.op);
        else if (d.kind === 'wait') yield* sleepUntil(input.expecting ? Math.min(d.until, now + EXPECT_MS) : d.until);
      }
      context.df.continueAsNew({ sessionId, startedAt, checkedAt, ...(expecting ? { expecting } : {}) });
      return 'continued';
    } catch (err) {
      const failures = (input.failures ?? 0) + 1;
      context.log(`supervisor ${sessionId}: ${(err as Error).message}; retrying (failure ${failures})`);
      yield context.df.createTimer(new Date(nowOf(context) + backoffMs(failures, 300_000)));
      context.df.continueAsNew({ ...input, startedAt, failures });
      return 'retrying';
    }
  };
}

/** A live session whose holder does not list it (a lost signal) or stopped beating is moved elsewhere. */
function* checkHolder(context: OrchestrationLike, record: LifecycleRecord, t: DurableWatchTimeouts, now: number): Gen {
  const workerId = record.workerId ?? '';
  const w = (yield context.df.callEntity(new df.EntityId(WORKER_ENTITY, workerId), 'get')) as WorkerEntityState | null;
  const held = w?.held?.includes(record.sessionId) ?? false;
  const silent = (w?.lastBeatAt ?? record.stateSince) + t.heartbeatTimeoutMs < now;
  if (held && !silent) return;
  const reason = held ? 'worker heartbeats stopped' : 'worker does not hold the session';
  yield* applyOperation(context, record.sessionId, { type: 'workerLost', workerId, reason, at: now });
}

export interface WorkerSupervisorInput {
  workerId: string;
  startedAt?: number;
  reported?: number;
  failures?: number;
}

/** Sub-orchestrations started at once when a worker is lost (its sessions re-attach in waves). */
const LOST_WAVE = 50;

/**
 * `workerSupervisor` (instance `worker-<workerId>`): one per worker, the liveness watchdog of every session
 * that worker holds. It sleeps until the worker's last beat plus the heartbeat timeout; a worker that missed
 * it is lost, and exactly the sessions its entity holds get `workerLost` (each through the session's entity,
 * so a session that moved on meanwhile rejects it). It reports the number of sessions held to the `fleet`
 * entity when it changes (the scale signal) and retires when its worker holds nothing and stays silent.
 */
export function workerSupervisorOrchestrator(t: DurableWatchTimeouts) {
  return function* (context: OrchestrationLike): Gen<unknown> {
    const input = context.df.getInput<WorkerSupervisorInput>();
    const { workerId } = input;
    const startedAt = input.startedAt ?? nowOf(context);
    let reported = input.reported ?? -1;
    const worker = new df.EntityId(WORKER_ENTITY, workerId);
    const report = (live: number) => {
      if (live === reported) return;
      context.df.signalEntity(new df.EntityId(FLEET_ENTITY, FLEET_KEY), 'report', {
        workerId,
        live,
        at: nowOf(context),
      });
      reported = live;
    };
    try {
      const w = (yield context.df.callEntity(worker, 'watch')) as WorkerEntityState;
      const now = nowOf(context);
      const lastBeat = Math.max(w.lastBeatAt ?? 0, startedAt);
      if (w.held.length === 0) {
        if (now - lastBeat >= t.workerIdleMs) {
          const r = (yield context.df.callEntity(worker, 'retire')) as { retired: boolean };
          if (r.retired) {
            report(-1);
            return 'retired';
          }
        } else {
          report(0);
          yield context.df.createTimer(new Date(lastBeat + t.workerIdleMs));
        }
      } else if (now - lastBeat >= t.heartbeatTimeoutMs) {
        const lost = (yield context.df.callEntity(worker, 'lost', { at: now })) as string[];
        context.log(`worker ${workerId} lost (no beat for ${now - lastBeat} ms): ${lost.length} session(s) move`);
        for (let i = 0; i < lost.length; i += LOST_WAVE) {
          const wave = lost.slice(i, i + LOST_WAVE).map((sessionId) =>
            context.df.callSubOrchestrator(
              SESSION_OPERATION_ORCHESTRATION,
              {
                sessionId,
                op: { type: 'workerLost', workerId, reason: 'worker heartbeats stopped', at: now },
              },
              operationInstanceId(sessionId, `lost-${workerId}-${now}`),
            ),
          );
          // Each sub-orchestration catches its own failures; one that still fails leaves its session to
          // that session's supervisor (attach deadline), never the others.
          try {
            yield context.df.Task.all(wave);
          } catch (err) {
            context.log(`worker ${workerId}: a re-attach failed: ${(err as Error).message}`);
          }
        }
        report(0);
      } else {
        report(w.held.length);
        yield context.df.createTimer(new Date(lastBeat + t.heartbeatTimeoutMs));
      }
      context.df.continueAsNew({ workerId, startedAt, reported });
      return 'continued';
    } catch (err) {
      const failures = (input.failures ?? 0) + 1;
      context.log(`worker supervisor ${workerId}: ${(err as Error).message}; retrying (failure ${failures})`);
      yield context.df.createTimer(new Date(nowOf(context) + backoffMs(failures)));
      context.df.continueAsNew({ ...input, startedAt, failures });
      return 'retrying';
    }
  };
}
