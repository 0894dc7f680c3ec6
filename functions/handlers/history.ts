import type { HttpHandler } from '@azure/functions';
import type { FunctionsConfig } from '../../shared/config/index';
import { createAuthenticator, type Authenticator } from '../../shared/auth/index';
import { forgetCaller, type ForgetDeps } from '../../shared/memory/forget';
import { historyPartition } from '../../shared/memory/types';
import type { LifecycleRuntime } from '../lifecycle';
import { ok } from '../edge';

export interface HistoryHandlerDeps extends ForgetDeps {
  config: FunctionsConfig;
  /** The lifecycle's own copy of the caller's sessions (Durable instances and entity state) goes too. */
  lifecycle?: Pick<LifecycleRuntime, 'forget'>;
  /** Shared with the other handlers when deps provide one; built from AUTH_MODE otherwise. */
  authenticate?: Authenticator;
}

/**
 * `DELETE /api/users/me/history`: the signed-in caller forgets everything the agents remember about them.
 * The partition comes only from the authenticated identity, never from the request, so one user cannot
 * name another's history.
 */
export function deleteHistoryHandler(deps: HistoryHandlerDeps): HttpHandler {
  const authenticate = deps.authenticate ?? createAuthenticator(deps.config);
  return async (req, ctx) => {
    const caller = await authenticate(req.headers);
    const partition = historyPartition({ userId: caller.userId });
    // First the lifecycle's data, while the history still lists the caller's sessions (a retry finds them again).
    const forget = deps.lifecycle?.forget;
    const lifecycleInstances = forget ? await forget(ctx, await deps.history.listSessions(partition)) : 0;
    const result = await forgetCaller(deps, partition);
    if (lifecycleInstances) ctx.log(`history deleted: ${lifecycleInstances} lifecycle instances purged`);
    ctx.log(`history deleted: ${result.historyRows} rows, ${result.sessionSummariesCleared} session summaries`);
    return ok({ deleted: result });
  };
}
