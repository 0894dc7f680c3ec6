import { jwtVerify, SignJWT, type JWTPayload } from 'jose';

/**
 * Access tokens as the Web PubSub service checks them. With a key credential the SDKs sign HS256 JWTs
 * themselves, using the access key's UTF-8 bytes as the secret: REST calls carry one whose audience is the
 * request URL, client connections one whose audience is `{endpoint}/client/hubs/{hub}`.
 */

export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

export interface ClientClaims {
  userId?: string;
  roles: string[];
  groups: string[];
  expiresAt: number;
}

const secret = (key: string) => new TextEncoder().encode(key);
const list = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : [];

// Hosts differ between how the SDK was configured (127.0.0.1, localhost, a proxy), so the audience is
// matched on its path: the part that names the hub and the operation.
function samePath(aud: string, pathname: string): boolean {
  try {
    return (
      decodeURIComponent(new URL(aud).pathname).replace(/\/+$/, '') === decodeURIComponent(pathname).replace(/\/+$/, '')
    );
  } catch {
    return false;
  }
}

async function verify(token: string, key: string): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, secret(key), { algorithms: ['HS256'], clockTolerance: 5 });
    return payload;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ERR_JWT_EXPIRED') throw new TokenError('the access token has expired');
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw new TokenError('the access token signature is invalid');
    throw new TokenError(`the access token is not valid (${code ?? 'malformed'})`);
  }
}

/** Verifies the `Authorization: Bearer` token of a REST call made with the access key. */
export async function verifyServerToken(
  authorization: string | undefined,
  key: string,
  pathname: string,
): Promise<void> {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!m) throw new TokenError('an Authorization: Bearer token is required');
  const payload = await verify(m[1]!, key);
  const aud = list(payload.aud);
  if (!aud.some((a) => samePath(a, pathname)))
    throw new TokenError('the access token audience does not match the request URL');
}

/** Verifies a client connection token for `hub` and returns what it grants. */
export async function verifyClientToken(token: string | undefined, key: string, hub: string): Promise<ClientClaims> {
  if (!token) throw new TokenError('an access_token is required');
  const payload = await verify(token, key);
  const aud = list(payload.aud);
  if (!aud.some((a) => samePath(a, `/client/hubs/${hub}`))) {
    throw new TokenError(`the access token is not for hub "${hub}"`);
  }
  return {
    userId: typeof payload.sub === 'string' ? payload.sub : undefined,
    roles: list(payload.role),
    groups: list(payload['webpubsub.group']),
    expiresAt: (payload.exp ?? 0) * 1000,
  };
}

/** Signs a client token the way the SDK does locally: what `:generateToken` answers with. */
export async function signClientToken(
  key: string,
  audience: string,
  opts: { userId?: string; roles?: string[]; groups?: string[]; minutes?: number },
): Promise<string> {
  const jwt = new SignJWT({
    ...(opts.roles?.length ? { role: opts.roles } : {}),
    ...(opts.groups?.length ? { 'webpubsub.group': opts.groups } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setAudience(audience)
    .setExpirationTime(`${opts.minutes ?? 60}m`);
  if (opts.userId) jwt.setSubject(opts.userId);
  return jwt.sign(secret(key));
}

/** Permission check shared by joinGroup/leaveGroup/sendToGroup: the broad role or the group-scoped one. */
export function hasRole(
  roles: readonly string[],
  role: 'webpubsub.joinLeaveGroup' | 'webpubsub.sendToGroup',
  group: string,
) {
  return roles.includes(role) || roles.includes(`${role}.${group}`);
}
