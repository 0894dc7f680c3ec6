import { z } from 'zod';
import { PROVIDERS } from '../config/index';
import { sessionContextSchema, transportSchema } from '../lifecycle/schema';

/**
 * The worker's internal HTTP API, shared by the worker (validates) and the Function app (calls it). Every
 * request carries `authorization: Bearer <WORKER_AUTH_SECRET>`.
 */
export const attachBodySchema = z.object({
  sessionId: z.string().min(1).max(128),
  callId: z.string().min(1).max(256),
  agentId: z.string().min(1).max(64),
  userId: z.string().min(1).max(256),
  transport: transportSchema,
  attempt: z.number().int().min(0).max(100).default(0),
  avoidWorkers: z.array(z.string().max(256)).max(100).default([]),
  /** The session row's history partition, resume choice and trace, so the worker need not read the row. */
  context: sessionContextSchema.optional(),
  /** The realtime provider the call lives on; a worker configured for another one refuses the attach. */
  provider: z.enum(PROVIDERS).optional(),
});
export type AttachBody = z.infer<typeof attachBodySchema>;

export const attachResponseSchema = z.object({
  workerId: z.string().min(1),
  sessionId: z.string(),
  /** True when this worker already held the session (attach is idempotent). */
  already: z.boolean(),
});
export type AttachResponse = z.infer<typeof attachResponseSchema>;

export const detachBodySchema = z.object({
  sessionId: z.string().min(1).max(128),
  reason: z.string().max(200).default('detach'),
});
export type DetachBody = z.infer<typeof detachBodySchema>;

/** Worker → Function app: one request per tick carries every session's heartbeat. */
export const heartbeatBodySchema = z.object({
  workerId: z.string().min(1).max(256),
  sessionIds: z.array(z.string().min(1).max(128)).max(100_000),
  at: z.number().int().optional(),
});
export type HeartbeatBody = z.infer<typeof heartbeatBodySchema>;
/** Sessions the worker should let go of: ended, failed, or now held by another worker. */
export const heartbeatResponseSchema = z.object({ drop: z.array(z.string()) });
export type HeartbeatResponse = z.infer<typeof heartbeatResponseSchema>;

/**
 * How a call the worker ended on purpose ended: the session's end reason as written, with no worker detail (the
 * session row and `GET /api/sessions/{id}` show it).
 */
export const CALL_OUTCOMES = ['transferred', 'max_call_length', 'idle_timeout'] as const;
export type CallOutcome = (typeof CALL_OUTCOMES)[number];

/** Worker → Function app: operations the worker reports about one session. */
export const workerReportSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('workerLost'), workerId: z.string().min(1).max(256), reason: z.string().max(500) }),
  z.object({
    type: z.literal('ended'),
    workerId: z.string().min(1).max(256),
    reason: z.string().max(500),
    outcome: z.enum(CALL_OUTCOMES).optional(),
  }),
  z.object({ type: z.literal('failed'), workerId: z.string().min(1).max(256), reason: z.string().max(500) }),
]);
export type WorkerReport = z.infer<typeof workerReportSchema>;
