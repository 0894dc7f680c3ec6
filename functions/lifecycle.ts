import type { InvocationContext } from '@azure/functions';
import df from 'durable-functions';
import type { FunctionsConfig } from '../shared/config/index';
import { noopPublisher, type SessionEventPublisher } from '../shared/events/types';
import type { RealtimeProvider } from '../shared/providers/types';
import { createWorkerClient } from '../shared/worker-client/client';
import { ATTACH_BUDGET_MS, type EffectDeps } from '../shared/lifecycle/effects';
import { LocalLifecycle } from '../shared/lifecycle/local';
import type { LifecycleOperation, LifecyclePort, LifecycleState } from '../shared/lifecycle/operations';
import { createTableLifecycleStore, type LifecycleStore } from '../shared/lifecycle/store';
import { supervisorTimeouts } from '../shared/lifecycle/supervisor';
import {
  SESSION_ENTITY,
  SESSION_OPERATION_ORCHESTRATION,
  SESSION_SUPERVISOR_ORCHESTRATION,
  WORKER_ENTITY,
  supervisorInstanceId,
} from './durable/names';

export interface LifecycleRuntime {
  mode: 'durable' | 'local';
  /** The port handlers use; the Durable one needs the invocation (its durable client binding). */
  port: (ctx: InvocationContext) => LifecyclePort;
  /** Current state, when it is cheap to read (local mode). */
  state?: (sessionId: string) => Promise<{ state: LifecycleState; stateSince?: number; reason?: string } | undefined>;
  /** A worker's batched heartbeats; returns the sessions it should drop (Durable: from the worker's entity, one tick late). */
  heartbeats(ctx: InvocationContext, workerId: string, sessionIds: string[], at: number): Promise<string[]>;
  /** The local lifecycle itself (tests, stats); undefined in durable mode. */
  local?: LocalLifecycle;
  stop(): Promise<void>;
}

export interface LifecycleFactoryOptions {
  provider: Pick<RealtimeProvider, 'hangupCall'>;
  publisher?: SessionEventPublisher;
  store?: LifecycleStore;
  log?: (line: string) => void;
}

export type LifecycleConfig = Pick<
  FunctionsConfig,
  | 'LIFECYCLE_MODE'
  | 'WORKER_URL'
  | 'WORKER_AUTH_SECRET'
  | 'HEARTBEAT_TIMEOUT_SECONDS'
  | 'MAX_REATTACH_ATTEMPTS'
  | 'STORAGE_CONNECTION_STRING'
  | 'STORAGE_TABLE_ENDPOINT'
  | 'REALTIME_PROVIDER'
>;

/** What effects need in both modes: the worker client, the provider (hang-up) and the event publisher. */
export function effectDeps(config: LifecycleConfig, opts: LifecycleFactoryOptions): EffectDeps {
  return {
    worker: createWorkerClient({
      baseUrl: config.WORKER_URL,
      secret: config.WORKER_AUTH_SECRET,
      provider: config.REALTIME_PROVIDER,
      timeoutMs: 5000,
    }),
    provider: opts.provider,
    publisher: opts.publisher ?? noopPublisher,
    log: opts.log ?? (() => {}),
    now: Date.now,
    attachBudgetMs: ATTACH_BUDGET_MS,
  };
}

/**
 * LIFECYCLE_MODE=durable: operations go to the `session` entity (heartbeats as plain signals, everything
 * else through the `sessionOperation` orchestration, which runs the effects as activities).
 * LIFECYCLE_MODE=local: the in-process LocalLifecycle over Table Storage.
 */
export async function createLifecycle(
  config: LifecycleConfig,
  opts: LifecycleFactoryOptions,
): Promise<LifecycleRuntime> {
  if (config.LIFECYCLE_MODE === 'local') {
    const local = new LocalLifecycle({
      store: opts.store ?? createTableLifecycleStore(config),
      effects: effectDeps(config, opts),
      maxReattachAttempts: config.MAX_REATTACH_ATTEMPTS,
      timeouts: supervisorTimeouts(config, ATTACH_BUDGET_MS),
      log: opts.log,
    });
    await local.start();
    return {
      mode: 'local',
      port: () => local,
      state: async (id) => {
        const r = await local.get(id);
        return r && { state: r.state, stateSince: r.stateSince, reason: r.reason };
      },
      heartbeats: (_ctx, workerId, ids, at) => local.heartbeats(workerId, ids, at),
      local,
      stop: () => local.stop(),
    };
  }
  const port = (ctx: InvocationContext): LifecyclePort => ({ signal: (id, op) => signalDurable(ctx, id, op) });
  return {
    mode: 'durable',
    port,
    heartbeats: async (ctx, workerId, ids, at) => {
      const client = df.getClient(ctx);
      // Each signal is a call to the host's Durable extension: bounded concurrency for a worker's thousands.
      for (let i = 0; i < ids.length; i += 50) {
        await Promise.all(
          ids
            .slice(i, i + 50)
            .map((id) =>
              client.signalEntity(new df.EntityId(SESSION_ENTITY, id), 'apply', { type: 'heartbeat', workerId, at }),
            ),
        );
      }
      // Sessions that rejected this worker's earlier heartbeats left word in its entity: one read per tick.
      const worker = new df.EntityId(WORKER_ENTITY, workerId);
      const state = await client.readEntityState<{ drop: string[] }>(worker);
      const drop = state.entityExists ? (state.entityState?.drop ?? []) : [];
      if (drop.length) await client.signalEntity(worker, 'ack', drop);
      return drop;
    },
    stop: async () => {},
  };
}

/**
 * Heartbeats are plain entity signals (no effects, nothing to run). Other operations start a short
 * orchestration that applies the operation through the entity and runs the effects it returns; `requested`
 * also starts the session's supervisor (the heartbeat watchdog) under a fixed instance id.
 */
async function signalDurable(ctx: InvocationContext, sessionId: string, op: LifecycleOperation): Promise<void> {
  const client = df.getClient(ctx);
  if (op.type === 'heartbeat') {
    await client.signalEntity(new df.EntityId(SESSION_ENTITY, sessionId), 'apply', op);
    return;
  }
  await client.startNew(SESSION_OPERATION_ORCHESTRATION, { input: { sessionId, op } });
  if (op.type === 'requested') {
    try {
      await client.startNew(SESSION_SUPERVISOR_ORCHESTRATION, {
        instanceId: supervisorInstanceId(sessionId),
        input: { sessionId },
      });
    } catch (err) {
      // Already running for this session (a retried request): one supervisor is what we want.
      ctx.log(`supervisor for ${sessionId} not started: ${(err as Error).message}`);
    }
  }
}
