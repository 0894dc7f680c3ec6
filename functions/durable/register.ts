import type { InvocationContext } from '@azure/functions';
import df from 'durable-functions';
import { z } from 'zod';
import type { FunctionsConfig } from '../../shared/config/index';
import { ATTACH_BUDGET_MS, attachOnWorker, detach, emit, hangup } from '../../shared/lifecycle/effects';
import type { StateEvent } from '../../shared/lifecycle/reducer';
import { supervisorTimeouts } from '../../shared/lifecycle/supervisor';
import { attachBodySchema } from '../../shared/worker-client/api';
import { effectDeps, type LifecycleFactoryOptions } from '../lifecycle';
import { ensureSessionSupervisor, ensureWorkerSupervisor } from './client-ops';
import { fleetEntity, sessionEntity, workerEntity } from './entity';
import {
  FLEET_ENTITY,
  SESSION_ENTITY,
  SESSION_OPERATION_ORCHESTRATION,
  SESSION_SUPERVISOR_ORCHESTRATION,
  WORKER_ENTITY,
  WORKER_SUPERVISOR_ORCHESTRATION,
} from './names';
import { ACTIVITIES, sessionOperationOrchestrator } from './operation';
import { sessionSupervisorOrchestrator, workerSupervisorOrchestrator, type DurableWatchTimeouts } from './supervisors';

const detachInput = z.object({ sessionId: z.string().min(1), reason: z.string().max(200) });

/** A live session's own supervisor looks at its holder this often; the worker supervisors are the liveness. */
export const LIVE_RECHECK_MS = 30 * 60_000;

export function durableWatchTimeouts(
  config: Pick<FunctionsConfig, 'HEARTBEAT_TIMEOUT_SECONDS' | 'RESUME_WINDOW_SECONDS'>,
): DurableWatchTimeouts {
  return {
    ...supervisorTimeouts(config, ATTACH_BUDGET_MS),
    liveRecheckMs: LIVE_RECHECK_MS,
    resumeWindowMs: config.RESUME_WINDOW_SECONDS * 1000,
    workerIdleMs: Math.max(60_000, config.HEARTBEAT_TIMEOUT_SECONDS * 4000),
  };
}

/**
 * Registers the lifecycle with the Durable Functions host: the `session`, `worker` and `fleet` entities, the
 * operation orchestration, the session and worker supervisors, and the effect activities. The effect
 * activities report every outcome as an operation; one that throws anyway is retried by the orchestration
 * with backoff (never by a Durable retry policy behind the reducer's back).
 */
export function registerDurableLifecycle(config: FunctionsConfig, opts: LifecycleFactoryOptions): void {
  const fx = effectDeps(config, opts);
  const timeouts = durableWatchTimeouts(config);
  const client = [df.input.durableClient()];
  df.app.entity(SESSION_ENTITY, sessionEntity({ maxReattachAttempts: config.MAX_REATTACH_ATTEMPTS }));
  df.app.entity(WORKER_ENTITY, workerEntity());
  df.app.entity(FLEET_ENTITY, fleetEntity());
  df.app.orchestration(SESSION_OPERATION_ORCHESTRATION, sessionOperationOrchestrator());
  df.app.orchestration(SESSION_SUPERVISOR_ORCHESTRATION, sessionSupervisorOrchestrator(timeouts));
  df.app.orchestration(WORKER_SUPERVISOR_ORCHESTRATION, workerSupervisorOrchestrator(timeouts));
  df.app.activity(ACTIVITIES.attach, {
    extraInputs: client,
    handler: async (input: unknown, ctx: InvocationContext) => {
      const op = await attachOnWorker(fx, attachBodySchema.parse(input));
      // The worker now holds a session: its supervisor must run (it is the session's liveness).
      if (op.type === 'attached') await ensureWorkerSupervisor(df.getClient(ctx), op.workerId);
      return op;
    },
  });
  df.app.activity(ACTIVITIES.hangup, { handler: (input: unknown) => hangup(fx, z.string().min(1).parse(input)) });
  df.app.activity(ACTIVITIES.detach, {
    handler: (input: unknown) => {
      const d = detachInput.parse(input);
      return detach(fx, d.sessionId, d.reason);
    },
  });
  df.app.activity(ACTIVITIES.emit, { handler: (input: unknown) => emit(fx, input as StateEvent) });
  df.app.activity(ACTIVITIES.watch, {
    extraInputs: client,
    handler: (input: unknown, ctx: InvocationContext) =>
      ensureSessionSupervisor(df.getClient(ctx), z.string().min(1).parse(input)),
  });
}
