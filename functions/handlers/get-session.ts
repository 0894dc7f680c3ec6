import type { HttpHandler } from '@azure/functions';
import { costView } from '../../shared/cost/session-cost';
import { notFound } from '../../shared/http/errors';
import type { HistoryStore } from '../../shared/memory/types';
import type { AppDeps } from '../deps';
import { ok } from '../edge';
import { ownedSession, sessionIdParam } from './session-owner';

/** GET /api/sessions/{id} — state, timings, transcript summary, usage and cost; owner only (others get 404, not 403). */
export const getSessionHandler =
  (
    deps: Pick<AppDeps, 'authenticate' | 'sessions' | 'lifecycle'> & {
      history?: Pick<HistoryStore, 'forSession'>;
    },
  ): HttpHandler =>
  async (req) => {
    const caller = await deps.authenticate(req.headers);
    const id = sessionIdParam.safeParse(req.params.id);
    if (!id.success) throw notFound('session');
    const row = await ownedSession(deps.sessions, id.data, caller.userId);
    // The lifecycle owns the authoritative state; the row's copy is what was true when it was last written.
    const live = await deps.lifecycle.state?.(row.sessionId).catch(() => undefined);
    const items = deps.history
      ? await deps.history.forSession(row.historyPartition, row.sessionId).catch(() => undefined)
      : undefined;
    const count = (role: string) => items?.filter((i) => i.role === role).length;
    return ok({
      sessionId: row.sessionId,
      agentId: row.agentId,
      currentAgentId: row.currentAgentId ?? row.agentId,
      transport: row.transport,
      state: live?.state ?? row.state,
      reason: live?.reason ?? row.endReason,
      callId: row.callId,
      timings: {
        createdAt: row.createdAt,
        tokenExpiresAt: row.tokenExpiresAt,
        acceptedAt: row.acceptedAt,
        liveAt: row.liveAt,
        endedAt: row.endedAt,
        stateSince: live?.stateSince,
      },
      transcript: {
        summary: row.summary ?? null,
        items: items?.length ?? row.transcriptItems ?? 0,
        userTurns: count('user'),
        assistantTurns: count('assistant'),
        toolCalls: count('tool'),
      },
      // Tokens by modality and the cost so far (written by the worker while the call runs and when it ends).
      ...costView(row),
    });
  };
