import df, { type DurableClient } from 'durable-functions';
import type { LifecycleOperation } from '../../shared/lifecycle/operations';
import type { FleetState, SessionEntityState, WorkerEntityState } from './entity';
import {
  FLEET_ENTITY,
  FLEET_KEY,
  SESSION_ENTITY,
  SESSION_OPERATION_ORCHESTRATION,
  SESSION_SUPERVISOR_ORCHESTRATION,
  WORKER_ENTITY,
  WORKER_SUPERVISOR_ORCHESTRATION,
  entityInstanceId,
  operationInstanceId,
  supervisorInstanceId,
  workerSupervisorInstanceId,
} from './names';
import { WAKE_EVENT, type SessionSupervisorInput } from './supervisors';

/**
 * What the Function app asks of the Durable client: start an operation, start (or reach) a session's one
 * supervisor, make sure a worker is watched, answer heartbeats, count the fleet, purge a session. Shared by
 * the HTTP handlers (functions/lifecycle.ts) and the activities that hold a client binding.
 */
const RUNNING = new Set(['Running', 'Pending']);

async function statusOf(client: DurableClient, instanceId: string): Promise<string | undefined> {
  try {
    return String((await client.getStatus(instanceId)).runtimeStatus);
  } catch (err) {
    if (/404/.test((err as Error).message)) return undefined;
    throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nonce = () => Math.random().toString(36).slice(2, 10);

/** Every operation after `requested`: a short orchestration whose id names its session (for purge). */
export async function startOperation(client: DurableClient, sessionId: string, op: LifecycleOperation) {
  await client.startNew(SESSION_OPERATION_ORCHESTRATION, {
    instanceId: operationInstanceId(sessionId, `${op.type}-${op.at}-${nonce()}`),
    input: { sessionId, op },
  });
}

/**
 * Ends are applied by an operation orchestration; the supervisor, asleep until its next deadline, gets a wake
 * hint so that it retires the session one resume window after the end. A hint that finds no running
 * supervisor (it already stopped) is nothing to act on.
 */
export async function endOperation(client: DurableClient, sessionId: string, op: LifecycleOperation) {
  await startOperation(client, sessionId, op);
  try {
    await client.raiseEvent(supervisorInstanceId(sessionId), WAKE_EVENT, op.type);
  } catch (err) {
    if (!/No instance/.test((err as Error).message)) throw err;
  }
}

/**
 * `requested`: the supervisor applies it itself, so a new session costs one orchestration. A supervisor that
 * is still running (a resume within the window: it keeps an ended session until the window has passed) gets the
 * operation through an operation orchestration instead; that orchestration starts a new supervisor if the
 * session turns out unwatched. No failure is swallowed: what cannot be done is thrown to the caller (5xx, retried).
 */
export async function startSession(client: DurableClient, sessionId: string, op: LifecycleOperation) {
  const instanceId = supervisorInstanceId(sessionId);
  const input: SessionSupervisorInput = { sessionId, op };
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const status = await statusOf(client, instanceId);
    if (status && RUNNING.has(status)) return startOperation(client, sessionId, op);
    try {
      await client.startNew(SESSION_SUPERVISOR_ORCHESTRATION, { instanceId, input });
      return;
    } catch (err) {
      last = err; // started by someone else meanwhile: look again
    }
  }
  throw new Error(`session ${sessionId}: supervisor neither started nor running: ${(last as Error)?.message}`);
}

/**
 * Makes sure `supervisor-<id>` runs for a session its entity reports unwatched. A supervisor that is still
 * running there has retired (it is finishing): wait for it to finish, then start the new one.
 */
export async function ensureSessionSupervisor(client: DurableClient, sessionId: string): Promise<string> {
  const instanceId = supervisorInstanceId(sessionId);
  for (let i = 0; i < 40; i++) {
    const e = await client.readEntityState<SessionEntityState>(new df.EntityId(SESSION_ENTITY, sessionId));
    if (e.entityExists && e.entityState?.watched) return 'watched';
    const status = await statusOf(client, instanceId);
    if (!status || !RUNNING.has(status)) {
      try {
        await client.startNew(SESSION_SUPERVISOR_ORCHESTRATION, { instanceId, input: { sessionId } });
        return 'started';
      } catch {
        // Someone else started it: the next look sees it watched.
      }
    }
    await sleep(Math.min(1000, 50 * 2 ** i));
  }
  throw new Error(`session ${sessionId}: no supervisor could be started`);
}

/** Makes sure a worker's supervisor runs (after an attach to it, and when its entity says nobody watches it). */
export async function ensureWorkerSupervisor(client: DurableClient, workerId: string): Promise<string> {
  const instanceId = workerSupervisorInstanceId(workerId);
  for (let attempt = 0; attempt < 3; attempt++) {
    const status = await statusOf(client, instanceId);
    if (status && RUNNING.has(status)) return 'running';
    try {
      await client.startNew(WORKER_SUPERVISOR_ORCHESTRATION, { instanceId, input: { workerId } });
      return 'started';
    } catch {
      await sleep(100 * (attempt + 1));
    }
  }
  throw new Error(`worker ${workerId}: supervisor neither started nor running`);
}

/**
 * One worker tick: one read and one signal of the worker's entity, whatever the number of sessions. Answers
 * the reported sessions that were released from this worker (moved elsewhere, ended) and acknowledges them.
 */
export async function workerHeartbeat(client: DurableClient, workerId: string, sessionIds: string[], at: number) {
  const worker = new df.EntityId(WORKER_ENTITY, workerId);
  const state = await client.readEntityState<WorkerEntityState>(worker);
  const released = new Set(state.entityExists ? (state.entityState?.released ?? []) : []);
  const drop = sessionIds.filter((id) => released.has(id));
  await client.signalEntity(worker, 'beat', { at, ack: drop });
  if (!state.entityExists || !state.entityState?.watched) await ensureWorkerSupervisor(client, workerId);
  return drop;
}

/** The scale signal: live sessions per worker as the worker supervisors last reported them (one read). */
export async function fleetCounts(client: DurableClient): Promise<{ liveSessions: number; workers: number }> {
  const s = await client.readEntityState<FleetState>(new df.EntityId(FLEET_ENTITY, FLEET_KEY));
  const workers = Object.values(s.entityExists ? (s.entityState?.workers ?? {}) : {});
  return { liveSessions: workers.reduce((n, w) => n + w.live, 0), workers: workers.length };
}

/** Purges one session's Durable data: its operations, its supervisor and its entity state. */
export async function purgeSession(client: DurableClient, sessionId: string): Promise<number> {
  const instances = new Set<string>();
  const e = await client.readEntityState<SessionEntityState>(new df.EntityId(SESSION_ENTITY, sessionId));
  for (const id of e.entityState?.instances ?? []) instances.add(id);
  const supervisor = supervisorInstanceId(sessionId);
  try {
    const out = (await client.getStatus(supervisor)).output as { instances?: string[] } | undefined;
    for (const id of out?.instances ?? []) instances.add(id);
  } catch {
    // No supervisor left (already purged): only what the entity listed.
  }
  let purged = 0;
  for (const id of [...instances, supervisor, entityInstanceId(SESSION_ENTITY, sessionId)]) {
    purged += (await client.purgeInstanceHistory(id)).instancesDeleted;
  }
  return purged;
}

/** Retention: every finished orchestration created before the cutoff (operations, supervisors of ended sessions). */
export async function purgeFinishedBefore(client: DurableClient, cutoff: Date): Promise<number> {
  const r = await client.purgeInstanceHistoryBy({
    createdTimeFrom: new Date(0),
    createdTimeTo: cutoff,
    runtimeStatus: [
      df.OrchestrationRuntimeStatus.Completed,
      df.OrchestrationRuntimeStatus.Failed,
      df.OrchestrationRuntimeStatus.Terminated,
    ],
  });
  return r.instancesDeleted;
}
