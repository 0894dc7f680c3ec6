import type { EntityContext } from 'durable-functions';
import type { LifecycleState } from '../../shared/lifecycle/operations';
import { reduce, type LifecycleEffect, type SessionRecord } from '../../shared/lifecycle/reducer';
import { lifecycleOperationSchema } from '../../shared/lifecycle/schema';

/** The `session` entity's state: the same record the local lifecycle keeps in Table Storage. */
export interface SessionEntityState {
  record: SessionRecord | null;
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
): { state: SessionEntityState; changed: boolean; result: EntityApplyResult | SessionRecord | null } {
  if (operation === 'get') return { state, changed: false, result: state.record };
  if (operation !== 'apply') {
    return { state, changed: false, result: { state: state.record?.state ?? null, effects: [], rejected: `unknown operation ${operation}` } };
  }
  const parsed = lifecycleOperationSchema.safeParse(input);
  if (!parsed.success) {
    return { state, changed: false, result: { state: state.record?.state ?? null, effects: [], rejected: `invalid operation: ${parsed.error.issues[0]?.message ?? 'bad input'}` } };
  }
  const r = reduce(state.record, parsed.data, opts);
  if (r.rejected) {
    return { state, changed: false, result: { state: state.record?.state ?? null, effects: [], rejected: r.rejected.reason, missing: state.record === null } };
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
    const result = out.result as EntityApplyResult | null;
    if (result && 'rejected' in result && result.rejected && !/^heartbeat:/.test(result.rejected)) {
      context.log(`session ${context.df.entityKey}: rejected (${result.rejected})`);
    }
    context.df.return(out.result);
  };
}
