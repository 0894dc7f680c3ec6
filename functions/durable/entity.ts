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
  state: SessionEntityState,
  operation: string | undefined,
  input: unknown,
  opts: { sessionId: string; maxReattachAttempts: number },
): { state: SessionEntityState | null; changed: boolean; result: unknown; holder?: HolderChange } {
  const unchanged = (result: unknown) => ({ state, changed: false, result });
  switch (operation) {
    case 'get':
      return unchanged(state.record);
    case 'watch':
      return { state: { ...state, watched: true }, changed: !state.watched, result: state.record };
    case 'retire':
      if (state.record && !isTerminal(state.record.state)) return unchanged({ retired: false });
      return { state: null, changed: true, result: { retired: true, instances: state.instances ?? [] } };
    case 'apply':
      break;
    default:
      return unchanged({ state: state.record?.state ?? null, effects: [], rejected: `unknown operation ${operation}` });
  }
  const { op: raw, instanceId } = (input ?? {}) as Partial<ApplyInput>;
  const parsed = lifecycleOperationSchema.safeParse(raw);
  if (!parsed.success) {
    return unchanged({
      state: state.record?.state ?? null,
      effects: [],
      rejected: `invalid operation: ${parsed.error.issues[0]?.message ?? 'bad input'}`,
    });
  }
  const instances =
    instanceId && !(state.instances ?? []).includes(instanceId)
      ? [...(state.instances ?? []), instanceId].slice(-MAX_INSTANCES)
      : state.instances;
  const r = reduce(state.record, parsed.data, opts);
  if (r.rejected) {
    const result: EntityApplyResult = {
      state: state.record?.state ?? null,
      effects: [],
      rejected: r.rejected.reason,
      missing: state.record === null,
      watched: state.watched ?? false,
    };
    return { state: { ...state, instances }, changed: instances !== state.instances, result };
  }
  const before = state.record?.workerId;
  const after = r.state?.workerId;
  const holder: HolderChange | undefined =
    before === after ? undefined : { ...(before ? { release: before } : {}), ...(after ? { hold: after } : {}) };
  const next: SessionEntityState = { ...state, record: r.state, instances };
  const result: EntityApplyResult = { state: r.state!.state, effects: r.effects, watched: state.watched ?? false };
  return { state: next, changed: true, result, holder };
}

export function sessionEntity(opts: { maxReattachAttempts: number }) {
  return (context: EntityContext<SessionEntityState>) => {
    const state = context.df.getState(() => ({ record: null })) ?? { record: null };
    const out = sessionEntityOperation(state, context.df.operationName, context.df.getInput(), {
      sessionId: context.df.entityKey,
      maxReattachAttempts: opts.maxReattachAttempts,
    });
    // The library's `return` marks the entity as existing: answer first, then delete the state.
    context.df.return(out.result);
    if (out.changed) {
      if (out.state === null) context.df.destructOnExit();
      else context.df.setState(out.state);
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
  state: WorkerEntityState,
  operation: string | undefined,
  input: unknown,
): { state: WorkerEntityState | null; result: unknown } {
  const without = (list: string[], ids: Iterable<string>) => {
    const drop = new Set(ids);
    return list.filter((id) => !drop.has(id));
  };
  switch (operation) {
    case 'beat': {
      const { at, ack } = (input ?? {}) as { at?: number; ack?: string[] };
      const lastBeatAt = Math.max(state.lastBeatAt ?? 0, typeof at === 'number' ? at : 0);
      return { state: { ...state, lastBeatAt, released: without(state.released, ack ?? []) }, result: null };
    }
    case 'hold': {
      if (typeof input !== 'string') return { state, result: null };
      const held = state.held.includes(input) ? state.held : [...state.held, input];
      return { state: { ...state, held, released: without(state.released, [input]) }, result: null };
    }
    case 'release': {
      if (typeof input !== 'string') return { state, result: null };
      const released = state.released.includes(input) ? state.released : [...state.released, input];
      return {
        state: { ...state, held: without(state.held, [input]), released: released.slice(-MAX_RELEASED) },
        result: null,
      };
    }
    case 'lost': {
      const { at } = (input ?? {}) as { at?: number };
      const released = [...state.released, ...state.held.filter((id) => !state.released.includes(id))];
      return { state: { ...state, held: [], released: released.slice(-MAX_RELEASED), lostAt: at }, result: state.held };
    }
    case 'watch':
      return { state: state.watched ? state : { ...state, watched: true }, result: state };
    case 'retire': {
      // Only an idle worker's supervisor stops: nothing held. Its state goes once nothing is left to tell it.
      if (state.held.length > 0) return { state, result: { retired: false } };
      return { state: state.released.length ? { ...state, watched: false } : null, result: { retired: true } };
    }
    default:
      return { state, result: state };
  }
}

export function workerEntity() {
  return (context: EntityContext<WorkerEntityState>) => {
    const state = context.df.getState(emptyWorker) ?? emptyWorker();
    const out = workerEntityOperation(state, context.df.operationName, context.df.getInput());
    context.df.return(out.result);
    if (out.state === null) context.df.destructOnExit();
    else if (out.state !== state) context.df.setState(out.state);
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
