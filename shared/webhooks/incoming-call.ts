import type { RealtimeFunctionTool, RealtimeToolsConfigUnion } from 'openai/resources/realtime/realtime';
import { z } from 'zod';
import type { AgentDefinition } from '../agents/schema';
import type { LifecyclePort } from '../lifecycle/operations';
import { requestedOperation } from '../lifecycle/session-partition';
import { historyPartition } from '../memory/types';
import { UpstreamError, type RealtimeProvider, type SessionConfig } from '../providers/types';
import { SessionExistsError, type SessionRow, type SessionStore } from '../stores/sessions';
import { currentTraceparent } from '../telemetry/tracing';
import { sessionIdForCall, sipHeader, sipNumber } from './sip';
import { logFailure } from '../telemetry/log';

/**
 * A call (or Live session) id as the service's URL paths take it. A dot segment cannot be one: URL resolution would
 * turn `/calls/../reject` into another path, and the openai SDK refuses to send it.
 */
const callIdSchema = z
  .string()
  .min(1)
  .max(256)
  .refine((id) => id !== '.' && id !== '..', 'a call id cannot be "." or ".."');

/** GA `realtime.call.incoming` payload (the fields we route on). */
export const incomingCallSchema = z.object({
  id: z.string().min(1),
  type: z.literal('realtime.call.incoming'),
  created_at: z.number(),
  data: z.object({
    call_id: callIdSchema,
    sip_headers: z.array(z.object({ name: z.string(), value: z.string() })).max(200),
  }),
});
export type IncomingCallEvent = z.infer<typeof incomingCallSchema>;

/**
 * Live's `live.transport.incoming` (openai-node `LiveTransportIncomingWebhookEvent`): the pending SIP session's
 * `live_…` id stands where Realtime has the call id; the SIP headers are the same untrusted metadata.
 */
export const liveTransportIncomingSchema = z.object({
  id: z.string().min(1),
  type: z.literal('live.transport.incoming'),
  created_at: z.number(),
  data: z.object({
    type: z.literal('sip'),
    session_id: callIdSchema,
    sip_headers: incomingCallSchema.shape.data.shape.sip_headers,
  }),
});

/** The API a phone call is answered on. */
export type CallSurface = 'realtime' | 'live';

/** The incoming-call events we answer, by webhook type, read as one shape (`call_id` = Live's session id). */
export function parseIncomingCall(json: unknown): { surface: CallSurface; event: IncomingCallEvent } | undefined {
  const realtime = incomingCallSchema.safeParse(json);
  if (realtime.success) return { surface: 'realtime', event: realtime.data };
  const live = liveTransportIncomingSchema.safeParse(json);
  if (!live.success) return undefined;
  const { session_id, sip_headers } = live.data.data;
  return {
    surface: 'live',
    event: {
      id: live.data.id,
      type: 'realtime.call.incoming',
      created_at: live.data.created_at,
      data: { call_id: session_id, sip_headers },
    },
  };
}

export interface IncomingCallDeps {
  provider: Pick<RealtimeProvider, 'acceptCall' | 'rejectCall'>;
  agents: { bySipNumber(to: string): Promise<(AgentDefinition & { version?: number }) | undefined> };
  toolGateway: { toolsFor(agent: AgentDefinition): Promise<(RealtimeFunctionTool | RealtimeToolsConfigUnion)[]> };
  buildSessionConfig(
    agent: AgentDefinition,
    tools: (RealtimeFunctionTool | RealtimeToolsConfigUnion)[],
    opts: { model: string; sessionId?: string; transport?: 'sip' },
  ): SessionConfig;
  sessions: SessionStore;
  lifecycle: LifecyclePort;
  model: string;
  /** The webhook's surface and the one this deployment's provider speaks (REALTIME_PROVIDER). */
  surface?: { event: CallSurface; provider: CallSurface };
  now?: () => number;
  log?: (line: string) => void;
}

/** SIP status for "nobody answers at this number". */
export const NO_AGENT_SIP_STATUS = 404;

export type IncomingCallOutcome =
  | { action: 'accepted'; sessionId: string; agentId: string; callId: string }
  | { action: 'rejected'; callId: string; sipStatus: number; reason: string }
  | { action: 'gone'; callId: string; reason: string }
  /** Another surface answers this call: neither accepted nor rejected here (the first accept decides). */
  | { action: 'ignored'; callId: string; reason: string };

/**
 * The service no longer knows the call (it expired, or the caller hung up while we were deciding). Retrying the
 * delivery cannot help, so it is acknowledged rather than answered with a 5xx the sender would retry for hours.
 */
const callGone = (err: unknown) => err instanceof UpstreamError && (err.status === 404 || err.status === 410);

/**
 * Routes an incoming phone call: the called number (SIP `To`) picks the agent; the call is accepted with that
 * agent's server-side session config and a session row is written (history partition `sip:<caller number>`),
 * then the lifecycle is told so it attaches the sideband. No agent → rejected with SIP 404.
 * Safe to run again for the same call (a retried delivery): the session id derives from the call id.
 */
export async function handleIncomingCall(
  deps: IncomingCallDeps,
  event: IncomingCallEvent,
): Promise<IncomingCallOutcome> {
  const now = deps.now ?? Date.now;
  const callId = event.data.call_id;
  const to = sipNumber(sipHeader(event.data.sip_headers, 'To'));
  const from = sipNumber(sipHeader(event.data.sip_headers, 'From'));
  const agent = to ? await deps.agents.bySipNumber(to) : undefined;
  const surface = deps.surface ?? { event: 'realtime', provider: 'realtime' };
  // Exactly one surface answers a number: the agent's, which must be the one this deployment speaks.
  const answeredOn = agent?.sip.surface ?? surface.provider;
  if (surface.event !== answeredOn || answeredOn !== surface.provider) {
    return {
      action: 'ignored',
      callId,
      reason: `${agent ? `agent ${agent.id}` : 'unrouted calls'} answered on ${answeredOn}, not ${surface.event}`,
    };
  }
  if (!agent) {
    try {
      await deps.provider.rejectCall(callId, NO_AGENT_SIP_STATUS);
    } catch (err) {
      if (callGone(err)) return { action: 'gone', callId, reason: 'call no longer exists' };
      throw err;
    }
    return {
      action: 'rejected',
      callId,
      sipStatus: NO_AGENT_SIP_STATUS,
      reason: to ? `no agent for ${to}` : 'no To number',
    };
  }
  const model = agent.model ?? deps.model;
  const sessionId = sessionIdForCall(callId);
  const session = deps.buildSessionConfig(agent, await deps.toolGateway.toolsFor(agent), {
    model,
    sessionId,
    transport: 'sip',
  });
  const partition = historyPartition({ sipFrom: from, sessionId });
  const at = now();
  const traceparent = currentTraceparent();
  const row: SessionRow = {
    sessionId,
    agentId: agent.id,
    agentVersion: agent.version,
    transport: 'sip',
    historyPartition: partition,
    state: 'requested',
    createdAt: at,
    model,
    resume: true,
    callId,
    sipFrom: from,
    sipTo: to,
    // The webhook's trace: the worker's sideband and tool spans join it (shared/telemetry).
    traceparent,
  };
  try {
    await deps.sessions.create(row);
  } catch (err) {
    // A retry of a delivery whose accept failed last time: the row is already there.
    if (!(err instanceof SessionExistsError)) throw err;
  }
  // The lifecycle knows the session before the accept: if every accept fails and the service gives up on the
  // call, its watchdog ends the session (idle timeout) instead of the row staying `requested` for good.
  // A retried delivery signals `requested` again; the reducer rejects the repeat and changes nothing.
  await deps.lifecycle.signal(sessionId, requestedOperation(row));
  try {
    await deps.provider.acceptCall(callId, session);
  } catch (err) {
    if (!callGone(err)) throw err;
    // The call is gone either way; these only tidy up, and the answer to the sender does not depend on them.
    const log = deps.log ?? ((l: string) => console.warn(l));
    await deps.sessions
      .update(sessionId, { state: 'failed', endReason: 'call gone before accept' })
      .catch(logFailure(log, `session ${sessionId}: marking the row failed`));
    await deps.lifecycle
      .signal(sessionId, { type: 'failed', reason: 'call gone before accept', at: now() })
      .catch(logFailure(log, `session ${sessionId}: signalling failed`));
    return { action: 'gone', callId, reason: 'call no longer exists' };
  }
  await deps.lifecycle.signal(sessionId, { type: 'accepted', callId, at: now() });
  return { action: 'accepted', sessionId, agentId: agent.id, callId };
}
