import { z } from 'zod';
import type { LifecycleOperation } from './operations';

/** How the caller reaches the realtime service. */
export const transportSchema = z.enum(['webrtc', 'sip', 'websocket']);

/** What the worker needs from the session row at attach, carried through the lifecycle (see SessionContext). */
export const sessionContextSchema = z.object({
  historyPartition: z.string().max(300).optional(),
  resume: z.boolean().optional(),
  traceparent: z.string().max(128).optional(),
  /** The agent definition's version the session started with: the worker loads exactly that one. */
  agentVersion: z.number().int().positive().optional(),
});

/** Runtime check for operations crossing a process boundary (entity input, orchestration input). */
const at = z.number().int().nonnegative();
const reason = z.string().max(1000);
export const lifecycleOperationSchema: z.ZodType<LifecycleOperation> = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('requested'),
    agentId: z.string().min(1),
    userId: z.string().min(1),
    transport: transportSchema,
    at,
    context: sessionContextSchema.optional(),
  }),
  z.object({ type: z.literal('callRegistered'), callId: z.string().min(1), at }),
  z.object({ type: z.literal('accepted'), callId: z.string().min(1), at }),
  z.object({ type: z.literal('attached'), workerId: z.string().min(1), at }),
  z.object({ type: z.literal('heartbeat'), workerId: z.string().min(1), at }),
  z.object({ type: z.literal('workerLost'), workerId: z.string(), reason, at }),
  z.object({ type: z.literal('ended'), reason, at, workerId: z.string().min(1).optional() }),
  z.object({
    type: z.literal('failed'),
    reason,
    at,
    workerId: z.string().min(1).optional(),
    foreignCall: z.boolean().optional(),
  }),
]);
