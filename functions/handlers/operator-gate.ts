import type { HttpRequest } from '@azure/functions';
import type { Caller } from '../../shared/auth/index';
import { HttpError } from '../../shared/http/errors';
import type { AuditEntry } from '../../shared/stores/operator-audit';
import type { AppDeps } from '../deps';

export type OperatorDeps = Pick<AppDeps, 'authenticate' | 'audit' | 'config'>;

/** Audits one operator action; a storage failure is the caller's 503, never an unaudited success. */
export async function audit(deps: Pick<AppDeps, 'audit'>, e: Omit<AuditEntry, 'at'>): Promise<void> {
  try {
    await deps.audit.record({ ...e, at: Date.now() });
  } catch {
    throw new HttpError(503, 'audit_unavailable', 'the operator audit cannot be written right now; retry', undefined, {
      'retry-after': '5',
    });
  }
}

/**
 * The caller, if it holds the operator app role (OPERATOR_APP_ROLE); otherwise a 403 — audited, since a refused
 * attempt is what an audit is for. Unauthenticated callers get the authenticator's 401.
 */
export async function requireOperator(deps: OperatorDeps, req: HttpRequest, action: string): Promise<Caller> {
  const caller = await deps.authenticate(req.headers);
  if (caller.roles?.includes(deps.config.OPERATOR_APP_ROLE)) return caller;
  await audit(deps, { operator: caller.userId, action, outcome: 'denied' });
  throw new HttpError(403, 'not_an_operator', `this needs the ${deps.config.OPERATOR_APP_ROLE} app role`);
}
