import df, { type EntityContext } from 'durable-functions';
import type { LifecycleState } from '../../shared/lifecycle/operations';
import { reduce, workerShouldDrop, type LifecycleEffect, type LifecycleRecord } from '../../shared/lifecycle/reducer';
import { WORKER_ENTITY } from './names';
import { lifecycleOperationSchema } from '../../shared/lifecycle/schema';

/** The `session` entity's state: the same record the local lifecycle keeps in Table Storage. */
export interface SessionEntityState {
  record: LifecycleRecord | null;
}

/** What `apply` returns to the orchestration that called it. */
export interface EntityApplyResult {
  state: LifecycleState | null;
  effects: LifecycleEffect[];
  rejected?: string;
  /** Rejected because the session does not exist (yet): `requested` may still be on its way. */
  missing?: boolean;
}

/**
 * One entity operation as a pure function, so it is tested without a host. `apply` runs the reducer;
 * `get` returns the record (the supervisor reads it after each timer).
 */
export function sessionEntityOperation(
  state: SessionEntityState,
  operation: string | undefined,
  input: unknown,
  opts: { sessionId: string; maxReattachAttempts: number },
): { state: SessionEntityState; changed: boolean; result: EntityApplyResult | LifecycleRecord | null } {
  if (operation === 'get') return { state, changed: false, result: state.record };
  if (operation !== 'apply') {
    return {
      state,
      changed: false,
      result: { state: state.record?.state ?? null, effects: [], rejected: `unknown operation ${operation}` },
    };
  }
  const parsed = lifecycleOperationSchema.safeParse(input);
  if (!parsed.success) {
    return {
      state,
      changed: false,
      result: {
        state: state.record?.state ?? null,
        effects: [],
        rejected: `invalid operation: ${parsed.error.issues[0]?.message ?? 'bad input'}`,
      },
    };
  }
  const r = reduce(state.record, parsed.data, opts);
  if (r.rejected) {
    return {
      state,
      changed: false,
      result: {
        state: state.record?.state ?? null,
        effects: [],
        rejected: r.rejected.reason,
        missing: state.record === null,
      },
    };
  }
  // Heartbeats change only the in-memory deadline but the entity has no other memory: keep them in state.
  return { state: { record: r.state }, changed: true, result: { state: r.state!.state, effects: r.effects } };
}

export function sessionEntity(opts: { maxReattachAttempts: number }) {
  return (context: EntityContext<SessionEntityState>) => {
    const state = context.df.getState(() => ({ record: null })) ?? { record: null };
    const out = sessionEntityOperation(state, context.df.operationName, context.df.getInput(), {
      sessionId: context.df.entityKey,
      maxReattachAttempts: opts.maxReattachAttempts,
    });
    if (out.changed) context.df.setState(out.state);
    const input = context.df.getInput<{ type?: string; workerId?: string }>();
    if (
      !out.changed &&
      input?.type === 'heartbeat' &&
      input.workerId &&
      workerShouldDrop(state.record, input.workerId)
    ) {
      // Tell that worker (through its own entity, read on its next heartbeat) to let this session go.
      context.df.signalEntity(new df.EntityId(WORKER_ENTITY, input.workerId), 'drop', context.df.entityKey);
    }
    const result = out.result as EntityApplyResult | null;
    if (result && 'rejected' in result && result.rejected && !/^heartbeat:/.test(result.rejected)) {
      context.log(`session ${context.df.entityKey}: rejected (${result.rejected})`);
    }
    context.df.return(out.result);
  };
}

/** The `worker` entity (key = worker id): sessions its worker should let go of, until it acknowledges them. */
export interface WorkerEntityState {
  drop: string[];
}
const MAX_DROPS = 1000;

export function workerEntityOperation(
  state: WorkerEntityState,
  operation: string | undefined,
  input: unknown,
): WorkerEntityState {
  if (operation === 'drop' && typeof input === 'string' && !state.drop.includes(input)) {
    return { drop: [...state.drop, input].slice(-MAX_DROPS) };
  }
  if (operation === 'ack' && Array.isArray(input)) {
    const acked = new Set(input);
    return { drop: state.drop.filter((id) => !acked.has(id)) };
  }
  return state;
}

export function workerEntity() {
  return (context: EntityContext<WorkerEntityState>) => {
    const state = context.df.getState(() => ({ drop: [] })) ?? { drop: [] };
    const next = workerEntityOperation(state, context.df.operationName, context.df.getInput());
    if (next !== state) context.df.setState(next);
    context.df.return(next);
  };
}
