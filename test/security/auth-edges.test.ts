import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { createAuthenticator } from '../../shared/auth/index';
import { ConfigError, loadFunctionsConfig } from '../../shared/config/index';
import { tableClient, TABLES } from '../../shared/storage/tables';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import { emulatorSession, incomingSipCall, stateWatcher, waitUntil } from '../lifecycle/helpers';

const base = {
  AUTH_MODE: 'dev',
  STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
  REALTIME_ENDPOINT: 'http://127.0.0.1:7080',
  WORKER_AUTH_SECRET: 'x'.repeat(32),
  WORKER_URL: 'http://127.0.0.1:8080',
};

describe('configuration an attacker would love', () => {
  it('a forged x-ms-client-principal cannot work: easyauth refuses to start unless App Service Authentication is on', () => {
    expect(() => loadFunctionsConfig({ ...base, AUTH_MODE: 'easyauth' })).toThrowError(ConfigError);
    expect(() => loadFunctionsConfig({ ...base, AUTH_MODE: 'easyauth' })).toThrowError(/WEBSITE_AUTH_ENABLED/);
    // The platform sets WEBSITE_AUTH_ENABLED itself when its authentication runs in front of the app.
    expect(loadFunctionsConfig({ ...base, AUTH_MODE: 'easyauth', WEBSITE_AUTH_ENABLED: 'True' }).AUTH_MODE).toBe(
      'easyauth',
    );
  });

  it('any site calling the API with the user’s cookies: CORS_ALLOWED_ORIGINS=* is a start-up error', () => {
    expect(() => loadFunctionsConfig({ ...base, CORS_ALLOWED_ORIGINS: '*' })).toThrowError(/CORS_ALLOWED_ORIGINS/);
    expect(() => loadFunctionsConfig({ ...base, CORS_ALLOWED_ORIGINS: 'https://app.example, *' })).toThrowError(
      ConfigError,
    );
  });
});

describe('Entra tokens an attacker can get', () => {
  const TENANT = '11111111-2222-3333-4444-555555555555';
  const AUDIENCE = 'api://voice-agents';
  const ISS = `https://login.microsoftonline.com/${TENANT}/v2.0`;
  let sign: (claims: JWTPayload, exp?: boolean) => Promise<string>;
  let auth: ReturnType<typeof createAuthenticator>;
  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    auth = createAuthenticator(
      {
        AUTH_MODE: 'entra',
        ENTRA_TENANT_ID: TENANT,
        ENTRA_AUDIENCE: AUDIENCE,
        ENTRA_SCOPES: ['access_as_user'],
        ENTRA_APP_ROLES: ['Sessions.Start'],
      },
      { jwks: createLocalJWKSet({ keys: [jwk] }) },
    );
    sign = (claims, exp = true) => {
      const jwt = new SignJWT({ iss: ISS, aud: AUDIENCE, oid: 'user-1', ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuedAt();
      return (exp ? jwt.setExpirationTime('10m') : jwt).sign(privateKey);
    };
  });
  const as = async (token: string) =>
    auth(new Headers({ authorization: `Bearer ${token}` })).then(
      () => 'accepted',
      (e: { status: number; code: string }) => `${e.status} ${e.code}`,
    );

  it('a token that never expires is refused', async () => {
    expect(await as(await sign({ scp: 'access_as_user' }, false))).toMatch(/^401 /);
  });

  it('an app-only token (client credentials, no user, no app role) for our audience is refused', async () => {
    expect(await as(await sign({ idtyp: 'app' }))).toBe('403 insufficient_scope');
    expect(await as(await sign({ roles: ['Some.Other.Role'] }))).toBe('403 insufficient_scope');
    expect(await as(await sign({ scp: 'User.Read' }))).toBe('403 insufficient_scope');
    // What the API defines is accepted: the delegated scope, or the app role.
    expect(await as(await sign({ scp: 'openid access_as_user' }))).toBe('accepted');
    expect(await as(await sign({ roles: ['Sessions.Start'] }))).toBe('accepted');
  });
});

describe('attacks on the running stack', () => {
  let stack: Stack;
  const lines: string[] = [];
  beforeAll(async () => {
    stack = await startStack({ ports: 'free', env: { RATE_LIMIT_PER_MINUTE: '3' }, log: (l) => lines.push(l) });
    // The local lifecycle writes its lines to the console, as the Functions host collects them.
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
  });
  afterAll(async () => {
    vi.restoreAllMocks();
    await stack?.stop();
  });
  const api = () => stack.url('functions');

  it('a cross-site text/plain POST (no preflight) cannot start a session or register a call: 415', async () => {
    const simple = { 'content-type': 'text/plain;charset=UTF-8', 'x-user-id': 'victim' };
    const start = await fetch(`${api()}/sessions`, {
      method: 'POST',
      headers: simple,
      body: JSON.stringify({ agentId: 'customer-support' }),
    });
    expect(start.status).toBe(415);
    expect(((await start.json()) as { error: { code: string } }).error.code).toBe('unsupported_media_type');
    const call = await fetch(`${api()}/sessions/00000000-0000-4000-8000-000000000000/call`, {
      method: 'POST',
      headers: simple,
      body: JSON.stringify({ callId: 'rtc_x' }),
    });
    expect(call.status).toBe(415);
  });

  it('a caller who rotates x-user-id in dev mode still runs out of session starts', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${api()}/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': `rotating-${i}` },
        body: JSON.stringify({ agentId: 'customer-support' }),
      });
      statuses.push(res.status);
      await res.body?.cancel();
    }
    expect(statuses).toContain(429);
    // Nor does a forged x-forwarded-for make a new caller.
    const forged = await fetch(`${api()}/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'fresh', 'x-forwarded-for': '198.51.100.7' },
      body: JSON.stringify({ agentId: 'customer-support' }),
    });
    expect(forged.status).toBe(429);
  });

  it('a forged "ended" report from a worker that does not hold the session leaves the call live, and its newline forges no log line', async () => {
    const callId = await incomingSipCall(stack, '+15550007777');
    const sessionId = sessionIdForCall(callId);
    const states = stateWatcher(stack, sessionId);
    const live = await states.until('live');
    const forgedLine = '[lifecycle] session ended by operator';
    const res = await fetch(`${api()}/internal/sessions/${sessionId}/report`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.env.WORKER_AUTH_SECRET}` },
      body: JSON.stringify({ type: 'ended', workerId: 'impostor-worker', reason: `bye\n${forgedLine}` }),
    });
    expect(res.status).toBeLessThan(300);
    // The lifecycle heard the report and turned it down.
    await waitUntil('the report rejected', async () =>
      lines.some((l) => l.includes(sessionId) && /rejected ended/.test(l) && l.includes('impostor-worker')),
    );
    expect(states.current?.state).toBe('live');
    expect(states.current?.workerId).toBe(live.workerId);
    expect((await emulatorSession(stack, callId))?.connections).toBeGreaterThan(0);
    // Every logged line is one line: the reason's newline is escaped, not a line of its own.
    const all = lines.flatMap((l) => l.split('\n'));
    expect(all.filter((l) => l.trimStart().startsWith(forgedLine))).toEqual([]);
    await states.stop();
  });

  it('RATE_LIMIT_STORE=table: two instances share one budget instead of doubling it', async () => {
    const { createTableRateLimiter } = await import('../../shared/ratelimit/table-counter');
    const table = tableClient({ STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING }, TABLES.ratelimits);
    await table.createTable().catch(() => undefined);
    const t = Date.now();
    const a = createTableRateLimiter({ table, perMinute: 4, now: () => t });
    const b = createTableRateLimiter({ table, perMinute: 4, now: () => t });
    const key = `user:shared-${t}`;
    const decisions = [];
    for (let i = 0; i < 10; i++) decisions.push(await (i % 2 ? a : b).take(key));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(4);
    expect(decisions.find((d) => !d.allowed)?.retryAfterSeconds).toBeGreaterThanOrEqual(1);
  });
});
