import type { HttpHandler } from '@azure/functions';
import type { FunctionsConfig } from '../../shared/config/index';
import { createAuthenticator, type Authenticator } from '../../shared/auth/index';
import { forgetCaller, type ForgetDeps } from '../../shared/memory/forget';
import { historyPartition } from '../../shared/memory/types';
import { ok } from '../edge';

export interface HistoryHandlerDeps extends ForgetDeps {
  config: FunctionsConfig;
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
    const result = await forgetCaller(deps, historyPartition({ userId: caller.userId }));
    ctx.log(`history deleted: ${result.historyRows} rows, ${result.sessionSummariesCleared} session summaries`);
    return ok({ deleted: result });
  };
}
