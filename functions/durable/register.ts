import df from 'durable-functions';
import { z } from 'zod';
import type { FunctionsConfig } from '../../shared/config/index';
import { ATTACH_BUDGET_MS, attachOnWorker, detach, emit, hangup } from '../../shared/lifecycle/effects';
import { effectDeps, type LifecycleFactoryOptions } from '../lifecycle';
import {
  SESSION_ENTITY,
  SESSION_OPERATION_ORCHESTRATION,
  SESSION_SUPERVISOR_ORCHESTRATION,
  WORKER_ENTITY,
} from './names';
import type { StateEvent } from '../../shared/lifecycle/reducer';
import { supervisorTimeouts } from '../../shared/lifecycle/supervisor';
import { attachBodySchema } from '../../shared/worker-client/api';
import { sessionEntity, workerEntity } from './entity';
import { ACTIVITIES, sessionOperationOrchestrator, sessionSupervisorOrchestrator } from './orchestrations';

const detachInput = z.object({ sessionId: z.string().min(1), reason: z.string().max(200) });

/**
 * Registers the lifecycle with the Durable Functions host: the `session` entity, the two orchestrations and
 * the effect activities. Activities never throw (each effect reports its outcome as an operation), so no
 * Durable retry policy re-runs an attach behind the reducer's back.
 */
export function registerDurableLifecycle(config: FunctionsConfig, opts: LifecycleFactoryOptions): void {
  const fx = effectDeps(config, opts);
  df.app.entity(SESSION_ENTITY, sessionEntity({ maxReattachAttempts: config.MAX_REATTACH_ATTEMPTS }));
  df.app.entity(WORKER_ENTITY, workerEntity());
  df.app.orchestration(SESSION_OPERATION_ORCHESTRATION, sessionOperationOrchestrator());
  df.app.orchestration(
    SESSION_SUPERVISOR_ORCHESTRATION,
    sessionSupervisorOrchestrator(supervisorTimeouts(config, ATTACH_BUDGET_MS)),
  );
  df.app.activity(ACTIVITIES.attach, {
    handler: (input: unknown) => attachOnWorker(fx, attachBodySchema.parse(input)),
  });
  df.app.activity(ACTIVITIES.hangup, { handler: (input: unknown) => hangup(fx, z.string().min(1).parse(input)) });
  df.app.activity(ACTIVITIES.detach, {
    handler: (input: unknown) => {
      const d = detachInput.parse(input);
      return detach(fx, d.sessionId, d.reason);
    },
  });
  df.app.activity(ACTIVITIES.emit, { handler: (input: unknown) => emit(fx, input as StateEvent) });
}
