import df from 'durable-functions';
import type { OrchestrationContext, Task } from 'durable-functions';
import type { LifecycleOperation } from '../../shared/lifecycle/operations';
import type { LifecycleEffect, StateEvent } from '../../shared/lifecycle/reducer';
import type { ApplyInput, EntityApplyResult } from './entity';
import { SESSION_ENTITY } from './names';

export const ACTIVITIES = {
  attach: 'lifecycleAttach',
  hangup: 'lifecycleHangup',
  detach: 'lifecycleDetach',
  emit: 'lifecycleEmit',
  /** Starts the session's supervisor when nobody watches it (a resume after the old one retired). */
  watch: 'lifecycleWatch',
} as const;

/** Follow-up operations one orchestration applies at most (attach → attached, ending → ended, …). */
const MAX_STEPS = 8;
/** How often an operation that found no session is retried, a second apart (`requested` may be in flight). */
const MISSING_RETRIES = 5;
/** A failed activity or entity call is retried this often, with backoff, before the step gives up. */
const CALL_RETRIES = 4;
export const backoffMs = (failures: number, capMs = 60_000) => Math.min(capMs, 1000 * 2 ** Math.max(0, failures - 1));

/** The slice of the orchestration context used here (the unit tests drive the generators with a fake). */
export type OrchestrationLike = Pick<OrchestrationContext, 'df' | 'log'>;
export type Gen<T = void> = Generator<Task, T, unknown>;

export const nowOf = (c: OrchestrationLike) => c.df.currentUtcDateTime.getTime();
export const sessionEntityOf = (sessionId: string) => new df.EntityId(SESSION_ENTITY, sessionId);

/** Waits for a task that may fail; never throws. */
function* settle(task: Task): Gen<{ ok: true; value: unknown } | { ok: false; error: string }> {
  try {
    return { ok: true, value: yield task };
  } catch (err) {
    return { ok: false, error: (err as Error)?.message ?? String(err) };
  }
}

/**
 * Runs a call, retrying a failure (an activity that threw, a host hiccup) on durable timers with backoff. The
 * first attempt may be dispatched together with tasks that must not wait for it nor hold it up (`alongside`:
 * state events): one `Task.any` sends them in the same episode, and only the call itself is awaited.
 */
export function* withRetry(
  context: OrchestrationLike,
  what: string,
  call: () => Task,
  opts: { first?: Task; alongside?: Task[] } = {},
): Gen<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const first = opts.first ?? call();
  // Never put a task that was already dispatched into a compound task: its action would be sent twice.
  const alongside = opts.alongside ?? [];
  if (alongside.length) yield context.df.Task.any([first, ...alongside]);
  let outcome = yield* settle(first);
  for (let failures = 1; !outcome.ok && failures <= CALL_RETRIES; failures++) {
    context.log(`${what} failed (attempt ${failures}): ${outcome.error}`);
    yield context.df.createTimer(new Date(nowOf(context) + backoffMs(failures)));
    outcome = yield* settle(call());
  }
  return outcome;
}

function* applyThroughEntity(
  context: OrchestrationLike,
  sessionId: string,
  op: LifecycleOperation,
): Gen<EntityApplyResult> {
  const input: ApplyInput = { op, instanceId: context.df.instanceId };
  const call = () => context.df.callEntity(sessionEntityOf(sessionId), 'apply', input);
  const out = yield* withRetry(context, `apply ${op.type} to ${sessionId}`, call);
  if (!out.ok) throw new Error(`could not apply ${op.type}: ${out.error}`);
  return out.value as EntityApplyResult;
}

/**
 * Applies one operation through the `session` entity (which serialises operations per session and runs the
 * reducer), runs the effects it returned as activities, then applies what they produced (attached /
 * workerLost / ended) the same way. State events are published in order but never awaited before an attach,
 * a hang-up or a detach: only the next state event waits for the previous one. Deterministic: time comes from
 * the orchestration clock.
 */
export function* applyOperation(
  context: OrchestrationLike,
  sessionId: string,
  first: LifecycleOperation,
): Gen<string[]> {
  const queue: LifecycleOperation[] = [first];
  const log: string[] = [];
  const emits: PendingEmit[] = [];
  for (let steps = 0; queue.length > 0 && steps < MAX_STEPS; steps++) {
    const op = queue.shift()!;
    let res = yield* applyThroughEntity(context, sessionId, op);
    for (let i = 0; res.rejected && res.missing && op.type !== 'requested' && i < MISSING_RETRIES; i++) {
      yield context.df.createTimer(new Date(nowOf(context) + 1000));
      res = yield* applyThroughEntity(context, sessionId, op);
    }
    if (res.rejected) {
      log.push(`${op.type}: rejected (${res.rejected})`);
      // A worker attached to a session that moved on (ended meanwhile, or another worker won): let it go.
      if (op.type === 'attached')
        yield* withRetry(context, 'detach', () =>
          context.df.callActivity(ACTIVITIES.detach, { sessionId, reason: 'attach no longer wanted' }),
        );
      continue;
    }
    log.push(`${op.type}: → ${res.state}`);
    if (op.type === 'requested' && !res.watched) {
      yield* withRetry(context, 'watch', () => context.df.callActivity(ACTIVITIES.watch, sessionId));
    }
    queue.push(...(yield* runEffects(context, sessionId, res.effects, emits)));
  }
  yield* flushEmits(context, emits);
  return log;
}

/** A state event's activity, created but perhaps not dispatched yet (a task is sent when first yielded). */
interface PendingEmit {
  event: StateEvent;
  task: Task;
  dispatched: boolean;
}

/** Waits for the state events scheduled so far; a failed one is published again (best effort). */
function* flushEmits(context: OrchestrationLike, emits: PendingEmit[]): Gen {
  while (emits.length) {
    const { event, task } = emits.shift()!;
    const out = yield* withRetry(context, 'emit', () => context.df.callActivity(ACTIVITIES.emit, event), {
      first: task,
    });
    if (!out.ok) context.log(`state event ${event.state} for ${event.sessionId} not published: ${out.error}`);
  }
}

function* runEffects(
  context: OrchestrationLike,
  sessionId: string,
  effects: LifecycleEffect[],
  emits: PendingEmit[],
): Gen<LifecycleOperation[]> {
  const follow: LifecycleOperation[] = [];
  for (const e of effects) {
    if (e.type !== 'emit') continue;
    // One state event at a time, in order: the previous one finishes before the next is scheduled.
    yield* flushEmits(context, emits);
    emits.push({ event: e.event, task: context.df.callActivity(ACTIVITIES.emit, e.event), dispatched: false });
  }
  // The state event leaves with the first effect and is not awaited by it.
  const alongside = () =>
    emits.flatMap((x) => {
      if (x.dispatched) return [];
      x.dispatched = true;
      return [x.task];
    });
  for (const e of effects) {
    switch (e.type) {
      case 'attach':
      case 'reattach': {
        const call = () => context.df.callActivity(ACTIVITIES.attach, e.request);
        const out = yield* withRetry(context, `attach ${sessionId}`, call, { alongside: alongside() });
        // A failing attach activity counts as an attach that did not happen.
        follow.push(
          out.ok
            ? (out.value as LifecycleOperation)
            : { type: 'workerLost', workerId: '', reason: `attach activity failed: ${out.error}`, at: nowOf(context) },
        );
        break;
      }
      case 'hangup':
        yield* withRetry(context, 'hangup', () => context.df.callActivity(ACTIVITIES.hangup, e.callId), {
          alongside: alongside(),
        });
        break;
      case 'detach':
        yield* withRetry(
          context,
          'detach',
          () => context.df.callActivity(ACTIVITIES.detach, { sessionId: e.sessionId, reason: 'session ending' }),
          { alongside: alongside() },
        );
        break;
      case 'complete':
        follow.push({ type: 'ended', reason: e.reason, at: nowOf(context) });
        break;
      case 'persist':
      case 'emit':
        break;
    }
  }
  return follow;
}

/** `sessionOperation`: input `{ sessionId, op }`, started by the client side for every operation after `requested`. */
export function sessionOperationOrchestrator() {
  return function* (context: OrchestrationLike): Gen<string[]> {
    const { sessionId, op } = context.df.getInput<{ sessionId: string; op: LifecycleOperation }>();
    try {
      return yield* applyOperation(context, sessionId, op);
    } catch (err) {
      // The session's supervisor notices whatever this left undone (its deadlines); nothing to retry here.
      context.log(`operation ${op.type} on ${sessionId} gave up: ${(err as Error).message}`);
      return [`${op.type}: failed (${(err as Error).message})`];
    }
  };
}
