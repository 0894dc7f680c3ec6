import { AsyncLocalStorage } from 'node:async_hooks';
import { createHmac } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

/**
 * On whose behalf a tool runs. The worker signs a short-lived token per session (HS256) and sends it with every
 * MCP request; the built-in server verifies it before it runs anything. Web users are verified by the Function
 * app's sign-in; phone callers only once a tool the agent defines (`verify_caller`) accepted their PIN.
 */
export const CALLER_HEADER = 'x-caller-identity';
/** The audience of tokens for the Function app's own MCP server. External servers get their `name`. */
export const BUILTIN_AUDIENCE = 'mcp:builtin';
const ISSUER = 'voice-agents';
/** The realtime services end a session after at most 60 minutes: no caller token needs to live longer. */
export const MAX_SESSION_SECONDS = 3600;
/** Where the built-in server puts a signed verification grant in a `tools/call` result (never shown to the model). */
export const GRANT_META_KEY = 'io.voice-agents/caller-grant';

export interface CallerIdentity {
  /** `user:<id>` (signed in), `sip:<number>` or `sip:anonymous` (phone), `service` (tool listing only). */
  subject: string;
  sessionId?: string;
  agentId?: string;
  /** The customer the caller has proven to be; absent for an unverified phone caller. */
  customerId?: string;
}

/** Tokens are signed with a key derived from WORKER_AUTH_SECRET, so that secret itself never travels. */
export const identityKey = (secret: string): Uint8Array =>
  new Uint8Array(createHmac('sha256', secret).update('mcp-caller-identity/v1').digest());

export async function signCallerToken(
  key: Uint8Array,
  who: CallerIdentity,
  audience: string,
  ttlSeconds = MAX_SESSION_SECONDS,
): Promise<string> {
  const claims: Record<string, string> = {};
  if (who.sessionId) claims.sid = who.sessionId;
  if (who.agentId) claims.agt = who.agentId;
  if (who.customerId) claims.cid = who.customerId;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(ISSUER)
    .setAudience(audience)
    .setSubject(who.subject)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + Math.min(ttlSeconds, MAX_SESSION_SECONDS))
    .sign(key);
}

/** Throws (jose errors) unless the token is ours, for this audience, unexpired and not longer-lived than a session. */
export async function verifyCallerToken(key: Uint8Array, token: string, audience: string): Promise<CallerIdentity> {
  const { payload } = await jwtVerify(token, key, {
    algorithms: ['HS256'],
    issuer: ISSUER,
    audience,
    requiredClaims: ['sub', 'exp', 'iat'],
    maxTokenAge: MAX_SESSION_SECONDS + 60,
  });
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return {
    subject: payload.sub!,
    sessionId: str(payload.sid),
    agentId: str(payload.agt),
    customerId: str(payload.cid),
  };
}

/**
 * One session's caller as the worker holds it: the identity, its tokens per audience (signed once, reused until
 * near expiry) and the session's tool-call budget.
 */
export class SessionCaller {
  private readonly tokens = new Map<string, { token: Promise<string>; exp: number }>();
  calls = 0;
  /** Called once when a verification grant from the built-in server upgrades this caller. */
  onVerified?: (customerId: string) => void;

  constructor(
    readonly identity: CallerIdentity,
    private readonly key: Uint8Array,
    readonly maxCalls = Number.POSITIVE_INFINITY,
  ) {}

  get verified(): boolean {
    return Boolean(this.identity.customerId);
  }

  token(audience: string, key: Uint8Array = this.key): Promise<string> {
    const cacheKey = `${audience}\n${this.identity.customerId ?? ''}\n${key === this.key ? '' : 'own'}`;
    const cached = this.tokens.get(cacheKey);
    if (cached && cached.exp - 60_000 > Date.now()) return cached.token;
    const token = signCallerToken(key, this.identity, audience);
    this.tokens.set(cacheKey, { token, exp: Date.now() + MAX_SESSION_SECONDS * 1000 });
    return token;
  }

  /** Accepts a grant only if our key signed it for this very session and caller. */
  async acceptGrant(grant: string): Promise<boolean> {
    try {
      const g = await verifyCallerToken(this.key, grant, BUILTIN_AUDIENCE);
      if (!g.customerId || g.sessionId !== this.identity.sessionId || g.subject !== this.identity.subject) return false;
      if (this.identity.customerId === g.customerId) return true;
      this.identity.customerId = g.customerId;
      this.onVerified?.(g.customerId);
      return true;
    } catch {
      return false;
    }
  }
}

/** The caller of the MCP request being made right now (the pooled SDK clients are shared by every session). */
export const currentCaller = new AsyncLocalStorage<SessionCaller>();

/**
 * The identity a session starts with. A signed-in user is the customer of the same id (the Function app verified
 * them); a phone caller is only the number the SIP `From` claims, unverified until `verify_caller` succeeds.
 */
export function callerIdentityFor(a: {
  sessionId: string;
  agentId: string;
  userId: string;
  transport: string;
}): CallerIdentity {
  if (a.transport === 'sip') {
    const number = a.userId.replace(/^sip:/, '');
    const subject = /^\+?[0-9]{3,20}$/.test(number) ? `sip:${number}` : 'sip:anonymous';
    return { subject, sessionId: a.sessionId, agentId: a.agentId };
  }
  return { subject: `user:${a.userId}`, customerId: a.userId, sessionId: a.sessionId, agentId: a.agentId };
}
