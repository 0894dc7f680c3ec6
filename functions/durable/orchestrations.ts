import df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import { SESSION_ENTITY } from './names';
import type { LifecycleOperation } from '../../shared/lifecycle/operations';
import type { LifecycleEffect, LifecycleRecord } from '../../shared/lifecycle/reducer';
import { planEffects } from '../../shared/lifecycle/effects';
import { supervisorDecision, type SupervisorTimeouts } from '../../shared/lifecycle/supervisor';
import type { EntityApplyResult } from './entity';

export const ACTIVITIES = {
  attach: 'lifecycleAttach',
  hangup: 'lifecycleHangup',
  detach: 'lifecycleDetach',
  emit: 'lifecycleEmit',
} as const;

/** Follow-up operations one orchestration applies at most (attach → attached, ending → ended, …). */
const MAX_STEPS = 8;
/** How often an operation that found no session is retried, a second apart (`requested` may be in flight). */
const MISSING_RETRIES = 5;

/** The slice of the orchestration context used here (the unit tests drive the generators with a fake). */
export type OrchestrationLike = Pick<OrchestrationContext, 'df' | 'log'>;
type Gen<T = void> = Generator<Task, T, unknown>;

const nowOf = (c: OrchestrationLike) => c.df.currentUtcDateTime.getTime();
const entityOf = (sessionId: string) => new df.EntityId(SESSION_ENTITY, sessionId);

/**
 * Applies one operation through the `session` entity (the entity serialises operations per session and runs
 * the reducer), then runs the effects it returned as activities, then applies what they produced
 * (attached / workerLost / ended) the same way. Deterministic: time comes from the orchestration clock.
 */
export function* applyOperation(
  context: OrchestrationLike,
  sessionId: string,
  first: LifecycleOperation,
): Gen<string[]> {
  const entity = entityOf(sessionId);
  const queue: LifecycleOperation[] = [first];
  const log: string[] = [];
  for (let steps = 0; queue.length > 0 && steps < MAX_STEPS; steps++) {
    const op = queue.shift()!;
    let res = (yield context.df.callEntity(entity, 'apply', op)) as EntityApplyResult;
    for (let i = 0; res.rejected && res.missing && op.type !== 'requested' && i < MISSING_RETRIES; i++) {
      yield context.df.createTimer(new Date(nowOf(context) + 1000));
      res = (yield context.df.callEntity(entity, 'apply', op)) as EntityApplyResult;
    }
    if (res.rejected) {
      log.push(`${op.type}: rejected (${res.rejected})`);
      // A worker attached to a session that moved on (ended meanwhile, or another worker won): let it go.
      if (op.type === 'attached')
        yield context.df.callActivity(ACTIVITIES.detach, { sessionId, reason: 'attach no longer wanted' });
      continue;
    }
    log.push(`${op.type}: → ${res.state}`);
    queue.push(...((yield* runEffects(context, res.effects)) as LifecycleOperation[]));
  }
  return log;
}

function* runEffects(context: OrchestrationLike, effects: LifecycleEffect[]): Gen<LifecycleOperation[]> {
  const plan = planEffects(effects, nowOf(context));
  if (plan.emits.length) yield context.df.Task.all(plan.emits.map((e) => context.df.callActivity(ACTIVITIES.emit, e)));
  const follow: LifecycleOperation[] = [];
  for (const c of plan.calls) {
    if (c.kind === 'follow') follow.push(c.op);
    else if (c.kind === 'attach')
      follow.push((yield context.df.callActivity(ACTIVITIES.attach, c.input)) as LifecycleOperation);
    else yield context.df.callActivity(ACTIVITIES[c.kind], c.input);
  }
  return follow;
}

/** `sessionOperation`: input `{ sessionId, op }`, started by the client side for every non-heartbeat operation. */
export function sessionOperationOrchestrator() {
  return function* (context: OrchestrationLike): Gen<string[]> {
    const { sessionId, op } = context.df.getInput<{ sessionId: string; op: LifecycleOperation }>();
    return yield* applyOperation(context, sessionId, op);
  };
}

/**
 * `sessionSupervisor` (instance `supervisor-<sessionId>`): the heartbeat watchdog. Reads the record, asks
 * supervisorDecision, and either applies the overdue operation (workerLost → re-attach, or ended) or sleeps on
 * a durable timer until the next deadline; then continues as new so its history stays a few events long.
 * It stops when the session is ended or failed.
 */
export function sessionSupervisorOrchestrator(timeouts: SupervisorTimeouts) {
  return function* (context: OrchestrationLike): Gen<string> {
    const input = context.df.getInput<{ sessionId: string; startedAt?: number }>();
    const startedAt = input.startedAt ?? nowOf(context);
    const record = (yield context.df.callEntity(entityOf(input.sessionId), 'get')) as LifecycleRecord | null;
    const decision = supervisorDecision(record, nowOf(context), timeouts, startedAt);
    if (decision.kind === 'stop') return `stopped: ${record?.state ?? 'no session'}`;
    if (decision.kind === 'apply') {
      yield* applyOperation(context, input.sessionId, decision.op);
    } else {
      yield context.df.createTimer(new Date(decision.until));
    }
    context.df.continueAsNew({ sessionId: input.sessionId, startedAt });
    return 'continued';
  };
}
