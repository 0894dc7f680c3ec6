import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { HttpError } from '../http/errors';

/** Who is calling, as established by the configured AUTH_MODE. */
export interface Caller {
  userId: string;
  name?: string;
  via: 'entra' | 'easyauth' | 'dev';
  /** App roles the identity holds (Entra `roles`, Easy Auth role claims; in dev mode from DEV_OPERATOR_USERS). */
  roles?: readonly string[];
}

interface HeaderSource {
  get(name: string): string | null;
}

export type Authenticator = (headers: HeaderSource) => Promise<Caller>;

export interface AuthConfig {
  AUTH_MODE: 'entra' | 'easyauth' | 'dev';
  ENTRA_TENANT_ID?: string;
  ENTRA_AUDIENCE?: string;
  /** Delegated scopes (`scp`) the API defines; a user token must carry one of them. */
  ENTRA_SCOPES?: readonly string[];
  /** App roles (`roles`) the API defines; an app-only token must carry one of them. */
  ENTRA_APP_ROLES?: readonly string[];
  /** The app role that makes a caller an operator (also accepted as a permission on its own). */
  OPERATOR_APP_ROLE?: string;
  /** Dev mode only: the `x-user-id`s that hold the operator role. */
  DEV_OPERATOR_USERS?: readonly string[];
}

export interface AuthOptions {
  /** Key set override (tests use a local JWKS); by default the tenant's published keys, cached by jose. */
  jwks?: JWTVerifyGetKey;
}

const unauthorized = (message: string, code = 'unauthorized') =>
  new HttpError(401, code, message, undefined, { 'www-authenticate': 'Bearer' });

/** User ids end up in table keys and log lines: keep them to a safe, bounded alphabet. */
const USER_ID = /^[A-Za-z0-9._@:-]{1,128}$/;

export function createAuthenticator(config: AuthConfig, opts: AuthOptions = {}): Authenticator {
  switch (config.AUTH_MODE) {
    case 'entra':
      return entra(config.ENTRA_TENANT_ID!, config.ENTRA_AUDIENCE!, permissionsOf(config), opts.jwks);
    case 'easyauth':
      return easyAuth;
    case 'dev':
      return devAuth(new Set(config.DEV_OPERATOR_USERS ?? []), config.OPERATOR_APP_ROLE ?? OPERATOR_ROLE);
  }
}

interface Permissions {
  scopes: readonly string[];
  roles: readonly string[];
}

/** The default name of the operator app role (OPERATOR_APP_ROLE). */
export const OPERATOR_ROLE = 'Voice.Operator';

const permissionsOf = (c: AuthConfig): Permissions => ({
  scopes: c.ENTRA_SCOPES ?? ['access_as_user'],
  roles: [...(c.ENTRA_APP_ROLES ?? []), c.OPERATOR_APP_ROLE ?? OPERATOR_ROLE],
});

const rolesOf = (payload: Record<string, unknown>): string[] =>
  Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];

/**
 * A token for our audience is not yet permission to call us: any app in the tenant can get one for itself
 * (client credentials, no user) unless the API demands a delegated scope or an app role it defines.
 */
function permitted(payload: Record<string, unknown>, p: Permissions): boolean {
  const scp = typeof payload.scp === 'string' ? payload.scp.split(' ') : [];
  const roles = rolesOf(payload);
  return scp.some((s) => p.scopes.includes(s)) || roles.some((r) => p.roles.includes(r));
}

/**
 * Entra ID access tokens, verified locally with jose against the tenant's signing keys (fetched once and
 * cached; refetched when an unknown `kid` appears, i.e. after key rollover). Issuer, audience and an expiry
 * are required; both v1 and v2 token issuers of the tenant are accepted. The user id is the `oid` claim
 * (stable per tenant).
 */
function entra(tenant: string, audience: string, permissions: Permissions, jwks?: JWTVerifyGetKey): Authenticator {
  const keys = jwks ?? createRemoteJWKSet(new URL(`https://login.microsoftonline.com/${tenant}/discovery/v2.0/keys`));
  const issuer = [`https://login.microsoftonline.com/${tenant}/v2.0`, `https://sts.windows.net/${tenant}/`];
  const audiences = [audience, ...(audience.startsWith('api://') ? [] : [`api://${audience}`])];
  return async (headers) => {
    const header = headers.get('authorization') ?? '';
    const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)$/i.exec(header);
    if (!match) throw unauthorized('an Entra ID bearer token is required');
    try {
      const { payload } = await jwtVerify(match[1]!, keys, {
        issuer,
        audience: audiences,
        algorithms: ['RS256'],
        clockTolerance: 60,
        // jose checks `exp` only when present: a token without one would never expire.
        requiredClaims: ['exp'],
      });
      if (!permitted(payload, permissions))
        throw new HttpError(
          403,
          'insufficient_scope',
          'the token carries no scope or app role this API defines',
          undefined,
          {
            'www-authenticate': 'Bearer error="insufficient_scope"',
          },
        );
      const userId = typeof payload.oid === 'string' ? payload.oid : payload.sub;
      if (!userId || !USER_ID.test(userId)) throw unauthorized('token has no usable oid/sub claim');
      const name = typeof payload.preferred_username === 'string' ? payload.preferred_username : undefined;
      return { userId, name, via: 'entra', roles: rolesOf(payload) };
    } catch (err) {
      if (err instanceof HttpError) throw err;
      if (err instanceof joseErrors.JWTExpired) throw unauthorized('token expired', 'token_expired');
      // The key set could not be fetched or read: our problem, not the caller's (an unknown kid is theirs).
      const keysDown = err instanceof joseErrors.JWKSTimeout || err instanceof joseErrors.JWKSInvalid;
      if (err instanceof joseErrors.JOSEError && !keysDown)
        throw unauthorized(`token rejected (${err.code})`, 'invalid_token');
      throw new HttpError(503, 'auth_unavailable', 'cannot verify tokens right now', undefined, { 'retry-after': '5' });
    }
  };
}

const OID_CLAIM = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
/** Easy Auth names an app role claim `roles` (Entra ID) or with the WS-Fed role type. */
const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];

/**
 * App Service / Functions Easy Auth: the platform validates the session and injects `x-ms-client-principal`
 * (base64 JSON). Only safe when Easy Auth is enabled on the app — the platform strips client-sent copies of
 * these headers; with it disabled anyone could forge them, which is why this mode must be chosen explicitly.
 */
const easyAuth: Authenticator = async (headers) => {
  const raw = headers.get('x-ms-client-principal');
  if (!raw) throw unauthorized('sign-in required (no Easy Auth principal)');
  let principal: { claims?: { typ: string; val: string }[]; userId?: string; userDetails?: string };
  try {
    principal = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
  } catch {
    throw unauthorized('malformed x-ms-client-principal', 'invalid_principal');
  }
  const claim = (typ: string) => principal.claims?.find((c) => c.typ === typ)?.val;
  const userId =
    claim(OID_CLAIM) ?? claim('oid') ?? headers.get('x-ms-client-principal-id') ?? principal.userId ?? claim('sub');
  if (!userId || !USER_ID.test(userId))
    throw unauthorized('Easy Auth principal has no usable user id', 'invalid_principal');
  const name =
    claim('name') ?? claim('preferred_username') ?? headers.get('x-ms-client-principal-name') ?? principal.userDetails;
  const roles = (principal.claims ?? []).filter((c) => ROLE_CLAIMS.includes(c.typ)).map((c) => c.val);
  return { userId, name: name ?? undefined, via: 'easyauth', roles };
};

/**
 * Local development only: trusts `x-user-id` (default `dev-user`). Never configure this in Azure. The operator role
 * goes only to the ids DEV_OPERATOR_USERS lists (none by default), so a local page is no operator unless asked.
 */
const devAuth =
  (operators: ReadonlySet<string>, operatorRole: string): Authenticator =>
  async (headers) => {
    const userId = headers.get('x-user-id')?.trim() || 'dev-user';
    if (!USER_ID.test(userId))
      throw new HttpError(400, 'invalid_user_id', 'x-user-id: letters, digits and . _ @ : - only, at most 128');
    return { userId, via: 'dev', roles: operators.has(userId) ? [operatorRole] : [] };
  };
