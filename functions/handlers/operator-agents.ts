import type { HttpHandler } from '@azure/functions';
import { HttpError } from '../../shared/http/errors';
import type { AppDeps } from '../deps';
import { ok, readJson } from '../edge';
import { audit, requireOperator, type OperatorDeps } from './operator-gate';

type Deps = OperatorDeps & Pick<AppDeps, 'agentManager'>;

const AGENT_ID = /^[a-z][a-z0-9-]{1,47}$/;

/** The audit outcome of a refused change: what the operator would want to find later. */
const outcomeOf = (err: unknown) =>
  err instanceof HttpError ? (err.status === 404 ? 'not_found' : err.status === 409 ? 'conflict' : 'invalid') : 'error';

/** Runs one agent change for an operator and audits it, refused changes included. */
function change(
  deps: Deps,
  action: string,
  run: (operator: string, req: Parameters<HttpHandler>[0]) => Promise<{ id: string; version: number }>,
  status = 200,
): HttpHandler {
  return async (req) => {
    const caller = await requireOperator(deps, req, action);
    const id = req.params.id;
    try {
      const r = await run(caller.userId, req);
      await audit(deps, { operator: caller.userId, action, target: `${r.id}@${r.version}`, outcome: 'ok' });
      return ok(r, status);
    } catch (err) {
      await audit(deps, { operator: caller.userId, action, target: id, outcome: outcomeOf(err) });
      throw err;
    }
  };
}

const pathId = (req: Parameters<HttpHandler>[0]) => {
  const id = req.params.id ?? '';
  if (!AGENT_ID.test(id)) throw new HttpError(404, 'not_found', 'agent not found');
  return id;
};

/** GET /api/operator/agents — every definition, retired ones too, with its version (what is live is `GET /api/agents`). */
export const listManagedAgentsHandler =
  (deps: Deps): HttpHandler =>
  async (req) => {
    const caller = await requireOperator(deps, req, 'agents.list');
    const agents = await deps.agentManager.list();
    await audit(deps, { operator: caller.userId, action: 'agents.list', outcome: 'ok' });
    return ok({ agents });
  };

/** POST /api/operator/agents — a new agent (version 1), or a retired id made live again (its next version). */
export const createAgentHandler = (deps: Deps): HttpHandler =>
  change(
    deps,
    'agents.create',
    async (by, req) => deps.agentManager.create(await readJson(req, deps.config.MAX_BODY_BYTES), by),
    201,
  );

/** PUT /api/operator/agents/{id} — the whole definition again: a new version for new sessions. */
export const updateAgentHandler = (deps: Deps): HttpHandler =>
  change(deps, 'agents.update', async (by, req) =>
    deps.agentManager.update(pathId(req), await readJson(req, deps.config.MAX_BODY_BYTES), by),
  );

/** DELETE /api/operator/agents/{id} — retired: no new sessions; running ones keep their version. */
export const retireAgentHandler = (deps: Deps): HttpHandler =>
  change(deps, 'agents.retire', async (by, req) => deps.agentManager.retire(pathId(req), by));
