import type { HttpResponseInit, InvocationContext } from '@azure/functions';
import type { AgentDefinition } from '../../shared/agents/schema';
import type { Caller } from '../../shared/auth/index';
import type { SessionContext } from '../../shared/lifecycle/operations';
import { requestedOperation } from '../../shared/lifecycle/session-partition';
import { viaProvider } from '../../shared/providers/http-errors';
import type { SessionConfig } from '../../shared/providers/types';
import type { SessionRow } from '../../shared/stores/sessions';
import { logFailure } from '../../shared/telemetry/log';
import type { AppDeps } from '../deps';
import { ok } from '../edge';

export interface BrokeredStart {
  sdp: string;
  session: SessionConfig;
  sessionId: string;
  agent: AgentDefinition;
  previous?: SessionRow;
  caller: Caller;
  model: string;
  context: SessionContext & { historyPartition: string };
  at: number;
  resume: boolean;
}

/**
 * POST /api/sessions for a provider that brokers the SDP (Live): the backend creates the service session from the
 * page's offer with the server credential and the agent's config (instructions, voice, delegation tools and the
 * page's data channel permissions, all fixed at start), so the page holds no credential at all. The service's
 * session id is ours from the first moment: written into the row and registered with the lifecycle here (no call
 * id comes from the page, so `POST /api/sessions/{id}/call` is not used), and claimed for this session in Table
 * `calls` by the worker when it attaches.
 */
export async function startBrokeredSession(
  deps: Pick<AppDeps, 'provider' | 'sessions' | 'lifecycle'>,
  ctx: InvocationContext,
  s: BrokeredStart,
): Promise<HttpResponseInit> {
  const created = await viaProvider(() => deps.provider.startWebrtcSession!(s.session, s.sdp));
  const { callId } = created;
  const row: SessionRow | undefined = s.previous
    ? undefined
    : {
        sessionId: s.sessionId,
        agentId: s.agent.id,
        agentVersion: s.context.agentVersion,
        transport: 'webrtc',
        userId: s.caller.userId,
        historyPartition: s.context.historyPartition,
        state: 'requested',
        createdAt: s.at,
        model: s.model,
        resume: s.resume,
        callId,
        traceparent: s.context.traceparent,
      };
  try {
    if (row) await deps.sessions.create(row);
    else await deps.sessions.update(s.sessionId, { resume: s.resume, callId, resumedAt: s.at });
  } catch (err) {
    // Nobody will attach to a session we could not record: end it rather than leave it running unattended.
    await deps.provider
      .hangupCall(callId)
      .catch(logFailure((l) => ctx.log(l), `session ${s.sessionId}: closing the unrecorded Live session`));
    throw err;
  }
  const port = deps.lifecycle.port(ctx);
  // A new row already holds the record of its `requested` (local lifecycle): the same operation costs no write.
  await port.signal(
    s.sessionId,
    row
      ? requestedOperation(row)
      : {
          type: 'requested',
          agentId: s.agent.id,
          userId: s.caller.userId,
          transport: 'webrtc',
          at: s.at,
          context: s.context,
        },
  );
  await port.signal(s.sessionId, { type: 'callRegistered', callId, at: Date.now() });
  ctx.log(`session ${s.sessionId} ${s.previous ? 'resumed' : 'requested'} agent=${s.agent.id} brokered`);
  return ok(
    {
      sessionId: s.sessionId,
      sdp: created.sdp,
      agent: { id: s.agent.id, displayName: s.agent.displayName },
      resumed: Boolean(s.previous),
    },
    201,
  );
}
