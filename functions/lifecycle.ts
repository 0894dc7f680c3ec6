import type { InvocationContext } from '@azure/functions';
import df from 'durable-functions';
import type { FunctionsConfig } from '../shared/config/index';
import { noopPublisher, type SessionEventPublisher } from '../shared/events/types';
import type { RealtimeProvider } from '../shared/providers/types';
import { createWorkerClient } from '../shared/worker-client/client';
import { ATTACH_BUDGET_MS, type EffectDeps } from '../shared/lifecycle/effects';
import { LocalLifecycle } from '../shared/lifecycle/local';
import type { LifecycleOperation, LifecyclePort, LifecycleState } from '../shared/lifecycle/operations';
import { createTableLifecycleStore } from '../shared/lifecycle/session-partition';
import type { LifecycleStore } from '../shared/lifecycle/store';
import { supervisorTimeouts } from '../shared/lifecycle/supervisor';
import {
  endOperation,
  fleetCounts,
  purgeFinishedBefore,
  purgeSession,
  startOperation,
  startSession,
  workerHeartbeat,
} from './durable/client-ops';

export interface LifecycleRuntime {
  mode: 'durable' | 'local';
  /** The port handlers use; the Durable one needs the invocation (its durable client binding). */
  port: (ctx: InvocationContext) => LifecyclePort;
  /** Current state, when it is cheap to read (local mode). */
  state?: (sessionId: string) => Promise<{ state: LifecycleState; stateSince?: number; reason?: string } | undefined>;
  /** A worker's batched heartbeats; returns the sessions it should drop (Durable: from the worker's entity, one tick late). */
  heartbeats(ctx: InvocationContext, workerId: string, sessionIds: string[], at: number): Promise<string[]>;
  /** The worker fleet's scale signal: sessions held and workers holding them. */
  scale(ctx: InvocationContext): Promise<{ liveSessions: number; workers: number }>;
  /** Purges the lifecycle's data of these sessions at once (forget me); returns how many instances went. */
  forget?(ctx: InvocationContext, sessionIds: string[]): Promise<number>;
  /** Retention: purges finished lifecycle instances created before the cutoff. */
  purgeBefore?(ctx: InvocationContext, cutoff: Date): Promise<number>;
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
      scale: async () => local.scale(),
      local,
      stop: () => local.stop(),
    };
  }
  const port = (ctx: InvocationContext): LifecyclePort => ({ signal: (id, op) => signalDurable(ctx, id, op) });
  return {
    mode: 'durable',
    port,
    // Liveness is per worker: one entity read and one signal per tick, however many sessions it holds.
    heartbeats: (ctx, workerId, ids, at) => workerHeartbeat(df.getClient(ctx), workerId, ids, at),
    scale: (ctx) => fleetCounts(df.getClient(ctx)),
    forget: async (ctx, sessionIds) => {
      let purged = 0;
      for (const id of sessionIds) purged += await purgeSession(df.getClient(ctx), id);
      return purged;
    },
    purgeBefore: (ctx, cutoff) => purgeFinishedBefore(df.getClient(ctx), cutoff),
    stop: async () => {},
  };
}

/**
 * `requested` starts (or reaches) the session's one supervisor, which applies it; every other operation
 * starts a short orchestration that applies it through the entity and runs the effects it returns. Heartbeats
 * never come here in durable mode (they go to the worker's entity).
 */
async function signalDurable(ctx: InvocationContext, sessionId: string, op: LifecycleOperation): Promise<void> {
  const client = df.getClient(ctx);
  if (op.type === 'requested') return startSession(client, sessionId, op);
  if (op.type === 'heartbeat') return; // liveness is the worker entity's business
  if (op.type === 'ended' || op.type === 'failed') return endOperation(client, sessionId, op);
  return startOperation(client, sessionId, op);
}
