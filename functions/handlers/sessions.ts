import { nextUtcDay } from '../../shared/stores/daily-minutes';
import { randomUUID } from 'node:crypto';
import type { HttpHandler } from '@azure/functions';
import { z } from 'zod';
import { enforceRateLimit, rateLimitKey } from '../../shared/auth/caller';
import { HttpError } from '../../shared/http/errors';
import { requestedOperation } from '../../shared/lifecycle/session-partition';
import { canResume } from '../../shared/memory/resume';
import { historyPartition } from '../../shared/memory/types';
import { viaProvider } from '../../shared/providers/http-errors';
import type { SessionRow } from '../../shared/stores/sessions';
import { currentTraceparent } from '../../shared/telemetry/tracing';
import type { AppDeps } from '../deps';
import { ownedSession } from './session-owner';
import { startBrokeredSession } from './brokered-session';
import { ok, readJson } from '../edge';

/**
 * Only the agent is chosen by the client. Unknown keys are refused (strict), so an attempt to pass
 * instructions, voice, tools or turn detection fails loudly instead of being silently ignored.
 */
export const startSessionBody = z.strictObject({
  agentId: z.string().regex(/^[a-z][a-z0-9-]{1,47}$/, 'an agent id'),
  userId: z.string().min(1).max(128).optional(),
  /** Reconnect a dropped call to this session (same owner and agent, within RESUME_WINDOW_SECONDS). */
  resumeSessionId: z.string().uuid().optional(),
  /** false: start without earlier conversations in context. */
  resume: z.boolean().default(true),
  /**
   * The page's WebRTC SDP offer, for a provider that brokers the SDP (Live): the backend creates the session with
   * its own credential and answers with the SDP answer. Refused for a provider that mints browser tokens.
   */
  sdp: z
    .string()
    .max(32_000)
    .regex(/^v=0\r?\n/, 'an SDP offer (starts with v=0)')
    .optional(),
});

export type StartSessionDeps = Pick<
  AppDeps,
  | 'config'
  | 'authenticate'
  | 'sessionLimiter'
  | 'dailyMinutes'
  | 'agents'
  | 'toolGateway'
  | 'buildSessionConfig'
  | 'provider'
  | 'sessions'
  | 'lifecycle'
>;

/** POST /api/sessions — mints a short-lived, config-locked client secret for one new (or resumed) session. */
export const startSessionHandler =
  (deps: StartSessionDeps): HttpHandler =>
  async (req, ctx) => {
    const { config } = deps;
    const caller = await deps.authenticate(req.headers);
    await enforceRateLimit(deps.sessionLimiter, rateLimitKey(caller, req.headers));
    // A point read that would otherwise sit before the mint: it runs beside the rest and is awaited before anything
    // is handed out (a secret minted for a refused user is dropped unseen and expires within its TTL).
    // Resolves to the refusal (never rejects, so nothing is unhandled while it waits).
    const allowance = enforceDailyMinutes(deps, caller.userId).then(
      () => undefined,
      (err: unknown) => err,
    );
    const enforceAllowance = async () => {
      const refusal = await allowance;
      if (refusal) throw refusal;
    };
    const input = startSessionBody.parse(await readJson(req, config.MAX_BODY_BYTES));
    if (input.userId && input.userId !== caller.userId) {
      throw new HttpError(403, 'user_mismatch', 'body.userId must be the signed-in user (or be omitted)');
    }
    const current = await deps.agents.get(input.agentId);
    if (!current) throw new HttpError(404, 'agent_not_found', `agent ${input.agentId} not found`);
    let agent = current;

    // Another user's session looks exactly like a missing one: existence is not leaked.
    const previous = input.resumeSessionId
      ? await ownedSession(deps.sessions, input.resumeSessionId, caller.userId)
      : undefined;
    if (previous) {
      await enforceAllowance(); // before closing a call the page lost
      if (previous.agentId !== agent.id)
        throw new HttpError(409, 'resume_agent_mismatch', 'a session resumes with its own agent');
      // A resumed session keeps the version of the agent it started with.
      if (previous.agentVersion && previous.agentVersion !== current.version)
        agent = (await deps.agents.getVersion(current.id, previous.agentVersion)) ?? current;
      const live = await deps.lifecycle.state?.(previous.sessionId).catch(() => undefined);
      const state = live?.state ?? previous.state;
      // The lifecycle knows when it ended even if the row was not updated yet.
      const endedAt = previous.endedAt ?? (live?.state === 'ended' ? live.stateSince : undefined);
      const check = canResume({ ...previous, state, endedAt }, Date.now(), config.RESUME_WINDOW_SECONDS);
      if (!check.ok && check.reason === 'still_active') {
        // The page lost its call before the service noticed: close the old call now; the retry resumes.
        await deps.lifecycle
          .port(ctx)
          .signal(previous.sessionId, { type: 'ended', reason: 'reconnecting', at: Date.now() });
        throw new HttpError(
          409,
          'resume_still_active',
          'the previous call is being closed; retry in a moment',
          undefined,
          { 'retry-after': '1' },
        );
      }
      if (!check.ok) {
        throw new HttpError(
          410,
          `resume_${check.reason}`,
          check.reason === 'failed'
            ? 'a failed session cannot be resumed; start a new one'
            : `sessions can be resumed within ${config.RESUME_WINDOW_SECONDS} s of their end`,
        );
      }
    }

    const brokered = Boolean(deps.provider.startWebrtcSession);
    if (brokered && !input.sdp)
      throw new HttpError(400, 'sdp_required', `the ${deps.provider.name} provider takes the page's SDP offer (sdp)`);
    if (!brokered && input.sdp)
      throw new HttpError(400, 'sdp_not_brokered', `the ${deps.provider.name} provider mints a browser token instead`);

    const model = agent.model ?? config.REALTIME_MODEL;
    const sessionId = previous?.sessionId ?? randomUUID();
    const session = deps.buildSessionConfig(agent, await deps.toolGateway.toolsFor(agent), { model, sessionId });
    const at = Date.now();
    const context = previous
      ? {
          historyPartition: previous.historyPartition,
          resume: input.resume,
          traceparent: previous.traceparent,
          agentVersion: agent.version,
        }
      : // This request's trace: the worker's sideband and tool spans join it (shared/telemetry).
        {
          historyPartition: historyPartition({ userId: caller.userId }),
          resume: input.resume,
          traceparent: currentTraceparent(),
          agentVersion: agent.version,
        };
    if (input.sdp) {
      await enforceAllowance();
      return startBrokeredSession(deps, ctx, {
        sdp: input.sdp,
        session,
        sessionId,
        agent,
        previous,
        caller,
        model,
        context,
        at,
        resume: input.resume,
      });
    }
    const { webrtcUrl, websocketUrl } = await viaProvider(async () => deps.provider.connectUrls(model));
    // The row is written while the upstream mints (the mint is the long pole): a failed mint removes the new row
    // again, and a failed write only strands a key that expires within the TTL. The lifecycle hears of the
    // session only once both are done.
    const tokenExpiresAt = Math.floor(at / 1000) + config.SESSION_TOKEN_TTL_SECONDS;
    const newRow: SessionRow | undefined = previous
      ? undefined
      : {
          sessionId,
          agentId: agent.id,
          agentVersion: agent.version,
          transport: 'webrtc',
          userId: caller.userId,
          historyPartition: context.historyPartition,
          state: 'requested',
          createdAt: at,
          model,
          resume: input.resume,
          tokenExpiresAt,
          traceparent: context.traceparent,
        };
    const row = newRow && deps.sessions.create(newRow);
    const [minted, written] = await Promise.allSettled([
      viaProvider(() => deps.provider.mintClientSecret(session, config.SESSION_TOKEN_TTL_SECONDS)),
      row,
    ]);
    const refused = await allowance;
    if (minted.status === 'rejected' || refused) {
      if (!previous && written.status === 'fulfilled')
        await deps.sessions
          .remove(sessionId)
          .catch((err) => ctx.log(`session ${sessionId}: removing the row of a failed mint failed: ${String(err)}`));
      throw refused ?? (minted as PromiseRejectedResult).reason;
    }
    if (written.status === 'rejected') throw written.reason;
    const secret = minted.value;
    if (previous) {
      // After the mint, so a failed one leaves the resumable session as it was. The reconnecting page gets a new
      // call id from the service: forget the dropped one so it can register.
      await deps.sessions.update(sessionId, {
        tokenExpiresAt: secret.expiresAt,
        resume: input.resume,
        callId: '',
        resumedAt: at,
      });
    }
    // A resumed (ended) session starts over in the lifecycle (`requested` again) so the new call can register; for
    // a session whose call never connected the lifecycle ignores it (it is still `requested`).
    await deps.lifecycle
      .port(ctx)
      .signal(
        sessionId,
        newRow
          ? requestedOperation(newRow)
          : { type: 'requested', agentId: agent.id, userId: caller.userId, transport: 'webrtc', at, context },
      );
    ctx.log(`session ${sessionId} ${previous ? 'resumed' : 'requested'} agent=${agent.id} via=${caller.via}`);
    return ok(
      {
        sessionId,
        clientSecret: secret.value,
        expiresAt: secret.expiresAt,
        webrtcUrl,
        websocketUrl,
        agent: { id: agent.id, displayName: agent.displayName },
        resumed: Boolean(previous),
      },
      201,
    );
  };

/**
 * A user who used the day's call minutes gets no new session (429, until the next UTC midnight). Counted from
 * ended sessions, so a call already running finishes; storage trouble lets the request through (the limit
 * protects a budget, it must not turn an outage into refusals).
 */
async function enforceDailyMinutes(deps: Pick<StartSessionDeps, 'config' | 'dailyMinutes'>, userId: string) {
  const limit = deps.config.DAILY_MINUTES_PER_USER;
  if (!limit || !deps.dailyMinutes) return;
  const at = Date.now();
  const used = await deps.dailyMinutes.usedSeconds(userId, at).catch(() => 0);
  if (used < limit * 60) return;
  const resetsAt = nextUtcDay(at);
  throw new HttpError(
    429,
    'daily_minutes_exceeded',
    `the daily limit of ${limit} call minutes per user (DAILY_MINUTES_PER_USER) is used up; it resets at ${new Date(resetsAt).toISOString()}`,
    {
      limit: 'DAILY_MINUTES_PER_USER',
      limitMinutes: limit,
      usedMinutes: Math.floor(used / 60),
      resetsAt: new Date(resetsAt).toISOString(),
    },
    { 'retry-after': String(Math.ceil((resetsAt - at) / 1000)) },
  );
}
