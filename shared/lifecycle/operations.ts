import type { z } from 'zod';
import type { sessionContextSchema, transportSchema } from './schema';

/**
 * The operations a session's lifecycle accepts. The reducer (shared/lifecycle/reducer.ts) decides which are
 * valid in which state; the Durable entity (Azure) and the local lifecycle (local runner) both apply it.
 */
export type Transport = z.infer<typeof transportSchema>;

export type LifecycleOperation =
  | { type: 'requested'; agentId: string; userId: string; transport: Transport; at: number; context?: SessionContext }
  | { type: 'callRegistered'; callId: string; at: number }
  | { type: 'accepted'; callId: string; at: number }
  | { type: 'attached'; workerId: string; at: number }
  | { type: 'heartbeat'; workerId: string; at: number }
  | { type: 'workerLost'; workerId: string; reason: string; at: number }
  /** `workerId`: reported by a worker, which must be the one holding the session. */
  | { type: 'ended'; reason: string; at: number; workerId?: string }
  /** `foreignCall`: the call was not minted for this session; it is someone else's, so it is not hung up. */
  | { type: 'failed'; reason: string; at: number; workerId?: string; foreignCall?: boolean };

/**
 * What the worker needs from the session row at attach, carried through the lifecycle instead (one storage read
 * less per attach): where the history lives, whether to seed earlier sessions, the session's trace.
 */
export type SessionContext = z.infer<typeof sessionContextSchema>;

export type LifecycleState = 'requested' | 'accepting' | 'attaching' | 'live' | 'ending' | 'ended' | 'failed';

/** How the HTTP functions and the worker talk to a session's lifecycle, whatever hosts it. */
export interface LifecyclePort {
  /** Applies one operation to the session (one at a time per session). */
  signal(sessionId: string, op: LifecycleOperation): Promise<void>;
}
