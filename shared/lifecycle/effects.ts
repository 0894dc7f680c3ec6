import type { SessionEventPublisher } from '../events/types';
import type { RealtimeProvider } from '../providers/types';
import { WorkerCallError, type WorkerClient } from '../worker-client/client';
import type { LifecycleOperation } from './operations';
import type { AttachRequest, LifecycleEffect, StateEvent } from './reducer';
import { callRef } from '../calls/binding';

/** How long one attach effect keeps retrying (a replica restarting, a full one) before it counts as a loss. */
export const ATTACH_BUDGET_MS = 8000;

/**
 * The side effects a transition asks for, as plain async functions. The local lifecycle calls them
 * directly; in Azure each one is the body of a Durable activity. None of them throws: every outcome is
 * reported back to the lifecycle as an operation (attached / workerLost / ended / failed).
 */
export interface EffectDeps {
  worker: WorkerClient;
  provider: Pick<RealtimeProvider, 'hangupCall'>;
  publisher: SessionEventPublisher;
  log(line: string): void;
  now(): number;
  /** Total time an attach may keep retrying a restarting or busy replica before it counts as a loss. */
  attachBudgetMs?: number;
  sleep?(ms: number): Promise<void>;
}

/** What attaching produced: an operation for the lifecycle, plus the worker that now holds the socket. */
export async function attachOnWorker(deps: EffectDeps, req: AttachRequest): Promise<LifecycleOperation> {
  const budget = deps.attachBudgetMs ?? ATTACH_BUDGET_MS;
  const sleep = deps.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const start = deps.now();
  let delay = 100;
  let last = 'no attempt'; // eslint-disable-line no-useless-assignment -- read after the loop when it gives up
  for (;;) {
    try {
      const res = await deps.worker.attach(req);
      return { type: 'attached', workerId: res.workerId, at: deps.now() };
    } catch (err) {
      if (err instanceof WorkerCallError && !err.retryable) {
        deps.log(`attach ${req.sessionId} refused: ${err.code} ${err.message}`);
        if (err.code === 'call_not_found')
          return { type: 'ended', reason: 'the call ended before a worker attached', at: deps.now() };
        if (err.code === 'call_not_bound')
          return {
            type: 'failed',
            reason: 'the call was not made for this session',
            at: deps.now(),
            foreignCall: true,
          };
        return { type: 'failed', reason: `attach refused: ${err.code}`, at: deps.now() };
      }
      last = (err as Error).message;
    }
    if (deps.now() - start + delay > budget) break;
    await sleep(delay);
    delay = Math.min(delay * 2, 1000);
  }
  deps.log(`attach ${req.sessionId} failed within ${budget} ms: ${last}`);
  return { type: 'workerLost', workerId: '', reason: `attach failed: ${last}`, at: deps.now() };
}

export async function hangup(deps: EffectDeps, callId: string): Promise<void> {
  try {
    await deps.provider.hangupCall(callId);
  } catch (err) {
    // 404 / 409: the call is already gone or ended, which is what we wanted.
    const status = (err as { status?: number }).status;
    if (status !== 404 && status !== 409) deps.log(`hangup ${callRef(callId)} failed: ${(err as Error).message}`);
  }
}

export async function detach(deps: EffectDeps, sessionId: string, reason: string): Promise<void> {
  try {
    await deps.worker.detach(sessionId, reason);
  } catch (err) {
    deps.log(`detach ${sessionId} failed: ${(err as Error).message}`);
  }
}

export async function emit(deps: EffectDeps, event: StateEvent): Promise<void> {
  await deps.publisher.publish(event).catch((err) => deps.log(`publish failed: ${(err as Error).message}`));
}

/** One effect as the call a host makes for it: a named effect function, or an operation to apply next. */
export type EffectCall =
  | { kind: 'attach'; input: AttachRequest }
  | { kind: 'hangup'; input: string }
  | { kind: 'detach'; input: { sessionId: string; reason: string } }
  | { kind: 'follow'; op: LifecycleOperation };

/**
 * The one reading of a transition's effects, shared by both hosts: the state events to publish (first and
 * together: they only publish, and the page should see the state before anything else) and the calls to
 * make in order. `persist` is the host's own write, done before any of this.
 */
export function planEffects(effects: LifecycleEffect[], now: number): { emits: StateEvent[]; calls: EffectCall[] } {
  const emits: StateEvent[] = [];
  const calls: EffectCall[] = [];
  for (const e of effects) {
    switch (e.type) {
      case 'persist':
        break;
      case 'emit':
        emits.push(e.event);
        break;
      case 'attach':
      case 'reattach':
        calls.push({ kind: 'attach', input: e.request });
        break;
      case 'hangup':
        calls.push({ kind: 'hangup', input: e.callId });
        break;
      case 'detach':
        calls.push({ kind: 'detach', input: { sessionId: e.sessionId, reason: 'session ending' } });
        break;
      case 'complete':
        calls.push({ kind: 'follow', op: { type: 'ended', reason: e.reason, at: now } });
        break;
    }
  }
  return { emits, calls };
}

/**
 * Runs one transition's effects in-process (the local lifecycle) and returns the follow-up operations to
 * apply. `emit` does not hold up the others.
 */
export async function runEffects(deps: EffectDeps, effects: LifecycleEffect[]): Promise<LifecycleOperation[]> {
  const plan = planEffects(effects, deps.now());
  const emits = plan.emits.map((event) => emit(deps, event));
  const follow: LifecycleOperation[] = [];
  for (const c of plan.calls) {
    if (c.kind === 'attach') follow.push(await attachOnWorker(deps, c.input));
    else if (c.kind === 'hangup') await hangup(deps, c.input);
    else if (c.kind === 'detach') await detach(deps, c.input.sessionId, c.input.reason);
    else follow.push(c.op);
  }
  await Promise.all(emits);
  return follow;
}
