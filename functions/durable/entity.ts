import df, { type EntityContext } from 'durable-functions';
import type { LifecycleOperation, LifecycleState } from '../../shared/lifecycle/operations';
import { isTerminal, reduce, type LifecycleEffect, type LifecycleRecord } from '../../shared/lifecycle/reducer';
import { lifecycleOperationSchema } from '../../shared/lifecycle/schema';
import { WORKER_ENTITY } from './names';

/**
 * The `session` entity's state: the lifecycle record, whether a supervisor watches it, and the operation
 * orchestrations that ran for it (so that purging a session finds every instance holding its data).
 */
export interface SessionEntityState {
  record: LifecycleRecord | null;
  watched?: boolean;
  instances?: string[];
}

/** What `apply` returns to the orchestration that called it. */
export interface EntityApplyResult {
  state: LifecycleState | null;
  effects: LifecycleEffect[];
  rejected?: string;
  /** Rejected because the session does not exist (yet): `requested` may still be on its way. */
  missing?: boolean;
  /** Whether a supervisor watches the session (false: whoever applied `requested` must start one). */
  watched?: boolean;
}

export interface ApplyInput {
  op: LifecycleOperation;
  /** The orchestration applying it, kept for purge. */
  instanceId?: string;
}

/** A change of holder the `worker` entities must hear about (hold on the new one, release on the old one). */
export interface HolderChange {
  release?: string;
  hold?: string;
}

const MAX_INSTANCES = 64;

/**
 * One entity operation as a pure function, so it is tested without a host. `apply` runs the reducer; `get`
 * returns the record; `watch` marks the session supervised (the supervisor's first call); `retire` ends the
 * supervision of a session that is over and deletes its state (the record is only needed for a resume).
 */
export function sessionEntityOperation(
  stored: SessionEntityState,
  operation: string | undefined,
  input: unknown,
  opts: { sessionId: string; maxReattachAttempts: number },
): { next: SessionEntityState | null; changed: boolean; result: unknown; holder?: HolderChange } {
  const unchanged = (result: unknown) => ({ next: stored, changed: false, result });
  switch (operation) {
    case 'get':
      return unchanged(stored.record);
    case 'watch':
      return { next: { ...stored, watched: true }, changed: !stored.watched, result: stored.record };
    case 'retire':
      if (stored.record && !isTerminal(stored.record.state)) return unchanged({ retired: false });
      return { next: null, changed: true, result: { retired: true, instances: stored.instances ?? [] } };
    case 'apply':
      break;
    default:
      return unchanged({
        state: stored.record?.state ?? null,
        effects: [],
        rejected: `unknown operation ${operation}`,
      });
  }
  const { op: raw, instanceId } = (input ?? {}) as Partial<ApplyInput>;
  const parsed = lifecycleOperationSchema.safeParse(raw);
  if (!parsed.success) {
    return unchanged({
      state: stored.record?.state ?? null,
      effects: [],
      rejected: `invalid operation: ${parsed.error.issues[0]?.message ?? 'bad input'}`,
    });
  }
  const instances =
    instanceId && !(stored.instances ?? []).includes(instanceId)
      ? [...(stored.instances ?? []), instanceId].slice(-MAX_INSTANCES)
      : stored.instances;
  const r = reduce(stored.record, parsed.data, opts);
  if (r.rejected) {
    const result: EntityApplyResult = {
      state: stored.record?.state ?? null,
      effects: [],
      rejected: r.rejected.reason,
      missing: stored.record === null,
      watched: stored.watched ?? false,
    };
    return { next: { ...stored, instances }, changed: instances !== stored.instances, result };
  }
  const before = stored.record?.workerId;
  const after = r.record?.workerId;
  const holder: HolderChange | undefined =
    before === after ? undefined : { ...(before ? { release: before } : {}), ...(after ? { hold: after } : {}) };
  const next: SessionEntityState = { ...stored, record: r.record, instances };
  const result: EntityApplyResult = { state: r.record!.state, effects: r.effects, watched: stored.watched ?? false };
  return { next, changed: true, result, holder };
}

export function sessionEntity(opts: { maxReattachAttempts: number }) {
  return (context: EntityContext<SessionEntityState>) => {
    const stored = context.df.getState(() => ({ record: null })) ?? { record: null };
    const out = sessionEntityOperation(stored, context.df.operationName, context.df.getInput(), {
      sessionId: context.df.entityKey,
      maxReattachAttempts: opts.maxReattachAttempts,
    });
    // The library's `return` marks the entity as existing: answer first, then delete what it stores.
    context.df.return(out.result);
    if (out.changed) {
      if (out.next === null) context.df.destructOnExit();
      else context.df.setState(out.next);
    }
    // Liveness is per worker: a session touches a worker entity only when its holder changes.
    const sessionId = context.df.entityKey;
    if (out.holder?.release)
      context.df.signalEntity(new df.EntityId(WORKER_ENTITY, out.holder.release), 'release', sessionId);
    if (out.holder?.hold) context.df.signalEntity(new df.EntityId(WORKER_ENTITY, out.holder.hold), 'hold', sessionId);
    const result = out.result as EntityApplyResult | null;
    if (result && typeof result === 'object' && 'rejected' in result && result.rejected) {
      context.log(`session ${sessionId}: rejected (${result.rejected})`);
    }
  };
}

/**
 * The `worker` entity (key = worker id): when the worker last beat, the sessions it holds (from the session
 * entities' holder changes) and the sessions it must let go of (released from it; the worker's next heartbeat
 * answer says `drop` and acknowledges them).
 */
export interface WorkerEntityState {
  lastBeatAt?: number;
  held: string[];
  released: string[];
  /** When the supervisor last declared it lost (its sessions were moved). */
  lostAt?: number;
  watched?: boolean;
}
const MAX_RELEASED = 1000;
const emptyWorker = (): WorkerEntityState => ({ held: [], released: [] });

export function workerEntityOperation(
  stored: WorkerEntityState,
  operation: string | undefined,
  input: unknown,
): { next: WorkerEntityState | null; result: unknown } {
  const without = (list: string[], ids: Iterable<string>) => {
    const drop = new Set(ids);
    return list.filter((id) => !drop.has(id));
  };
  switch (operation) {
    case 'beat': {
      const { at, ack } = (input ?? {}) as { at?: number; ack?: string[] };
      const lastBeatAt = Math.max(stored.lastBeatAt ?? 0, typeof at === 'number' ? at : 0);
      return { next: { ...stored, lastBeatAt, released: without(stored.released, ack ?? []) }, result: null };
    }
    case 'hold': {
      if (typeof input !== 'string') return { next: stored, result: null };
      const held = stored.held.includes(input) ? stored.held : [...stored.held, input];
      return { next: { ...stored, held, released: without(stored.released, [input]) }, result: null };
    }
    case 'release': {
      if (typeof input !== 'string') return { next: stored, result: null };
      const released = stored.released.includes(input) ? stored.released : [...stored.released, input];
      return {
        next: { ...stored, held: without(stored.held, [input]), released: released.slice(-MAX_RELEASED) },
        result: null,
      };
    }
    case 'lost': {
      const { at } = (input ?? {}) as { at?: number };
      const released = [...stored.released, ...stored.held.filter((id) => !stored.released.includes(id))];
      return {
        next: { ...stored, held: [], released: released.slice(-MAX_RELEASED), lostAt: at },
        result: stored.held,
      };
    }
    case 'watch':
      return { next: stored.watched ? stored : { ...stored, watched: true }, result: stored };
    case 'retire': {
      // Only an idle worker's supervisor stops: nothing held. Its state goes once nothing is left to tell it.
      if (stored.held.length > 0) return { next: stored, result: { retired: false } };
      return { next: stored.released.length ? { ...stored, watched: false } : null, result: { retired: true } };
    }
    default:
      return { next: stored, result: stored };
  }
}

export function workerEntity() {
  return (context: EntityContext<WorkerEntityState>) => {
    const stored = context.df.getState(emptyWorker) ?? emptyWorker();
    const out = workerEntityOperation(stored, context.df.operationName, context.df.getInput());
    context.df.return(out.result);
    if (out.next === null) context.df.destructOnExit();
    else if (out.next !== stored) context.df.setState(out.next);
  };
}

/** The `fleet` entity: live sessions per worker as the worker supervisors report them (the scale signal). */
export interface FleetState {
  workers: Record<string, { live: number; at: number }>;
}

export function fleetEntityOperation(state: FleetState, operation: string | undefined, input: unknown): FleetState {
  if (operation !== 'report') return state;
  const { workerId, live, at } = (input ?? {}) as { workerId?: string; live?: number; at?: number };
  if (!workerId) return state;
  const workers = { ...state.workers };
  if (live === undefined || live < 0) delete workers[workerId];
  else workers[workerId] = { live, at: at ?? 0 };
  return { workers };
}

export function fleetEntity() {
  return (context: EntityContext<FleetState>) => {
    const state = context.df.getState(() => ({ workers: {} })) ?? { workers: {} };
    const next = fleetEntityOperation(state, context.df.operationName, context.df.getInput());
    if (next !== state) context.df.setState(next);
    context.df.return(next);
  };
}
