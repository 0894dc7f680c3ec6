import type { HttpHandler } from '@azure/functions';
import { costView } from '../../shared/cost/session-cost';
import { HttpError, notFound } from '../../shared/http/errors';
import { TERMINAL_STATES } from '../../shared/lifecycle/reducer';
import type { SessionRow } from '../../shared/stores/sessions';
import type { AppDeps } from '../deps';
import { ok } from '../edge';
import { audit, requireOperator, type OperatorDeps } from './operator-gate';
import { sessionIdParam } from './session-owner';

type Deps = OperatorDeps & Pick<AppDeps, 'sessions' | 'lifecycle'>;

/** What an operator sees of a session: no user id and no phone number (who it is does not matter to a hang-up). */
const operatorView = (row: SessionRow, state: string) => ({
  sessionId: row.sessionId,
  agentId: row.agentId,
  agentVersion: row.agentVersion ?? null,
  transport: row.transport,
  caller: row.transport === 'sip' ? 'phone' : 'user',
  state,
  since: row.liveAt ?? row.createdAt,
  createdAt: row.createdAt,
  liveAt: row.liveAt ?? null,
  ...costView(row),
});

/** GET /api/operator/sessions — the sessions not yet ended, oldest first, with their cost so far. */
export const listLiveSessionsHandler =
  (deps: Deps): HttpHandler =>
  async (req) => {
    const caller = await requireOperator(deps, req, 'sessions.list');
    const rows = await deps.sessions.listActive();
    // Locally the lifecycle record is the authoritative state; the row's copy may lag behind it.
    const states = await Promise.all(
      rows.map(async (r) => (await deps.lifecycle.state?.(r.sessionId).catch(() => undefined))?.state ?? r.state),
    );
    const sessions = rows
      .map((r, i) => operatorView(r, states[i]!))
      .filter((s) => !TERMINAL_STATES.includes(s.state as never))
      .sort((a, b) => a.createdAt - b.createdAt);
    await audit(deps, { operator: caller.userId, action: 'sessions.list', outcome: 'ok' });
    return ok({ sessions });
  };

/** POST /api/operator/sessions/{id}/hangup — ends a session as if the caller had hung up. */
export const hangupSessionHandler =
  (deps: Deps): HttpHandler =>
  async (req, ctx) => {
    const caller = await requireOperator(deps, req, 'sessions.hangup');
    const id = sessionIdParam.safeParse(req.params.id);
    const row = id.success ? await deps.sessions.get(id.data) : undefined;
    const target = id.success ? id.data : undefined;
    if (!row) {
      await audit(deps, { operator: caller.userId, action: 'sessions.hangup', target, outcome: 'not_found' });
      throw notFound('session');
    }
    const state = (await deps.lifecycle.state?.(row.sessionId).catch(() => undefined))?.state ?? row.state;
    if (TERMINAL_STATES.includes(state)) {
      await audit(deps, { operator: caller.userId, action: 'sessions.hangup', target, outcome: 'conflict' });
      throw new HttpError(409, 'session_not_active', `the session is already ${state}`);
    }
    await deps.lifecycle.port(ctx).signal(row.sessionId, { type: 'ended', reason: 'operator hang-up', at: Date.now() });
    await audit(deps, { operator: caller.userId, action: 'sessions.hangup', target, outcome: 'ok' });
    return ok({ sessionId: row.sessionId, state: 'ending' }, 202);
  };
