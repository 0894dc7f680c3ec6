import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../shared/auth/index';
import { startHarness, type Harness } from '../functions/harness';

/** The operator routes behind Entra ID: JSON 401 without a token, 403 without the role, the role alone suffices. */
const TENANT = '11111111-2222-3333-4444-555555555555';
const AUDIENCE = 'api://voice-agents';
let h: Harness;
let token: (claims: Record<string, unknown>) => Promise<string>;

beforeAll(async () => {
  h = await startHarness({ env: { AUTH_MODE: 'entra', ENTRA_TENANT_ID: TENANT, ENTRA_AUDIENCE: AUDIENCE } });
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
  h.deps.authenticate = createAuthenticator(h.config, { jwks: createLocalJWKSet({ keys: [jwk] }) });
  token = (claims) =>
    new SignJWT({ iss: `https://login.microsoftonline.com/${TENANT}/v2.0`, aud: AUDIENCE, ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setExpirationTime('10m')
      .sign(privateKey);
}, 120_000);
afterAll(async () => h?.stop());

const call = async (path: string, init: RequestInit & { bearer?: string } = {}) => {
  const res = await fetch(`${h.api}/operator/${path}`, {
    ...init,
    headers: { ...(init.bearer ? { authorization: `Bearer ${init.bearer}` } : {}), ...init.headers },
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('operator routes with AUTH_MODE=entra', () => {
  it('answers 401, 403, 404, 400 and 415 as JSON errors', async () => {
    expect(await call('sessions')).toMatchObject({ status: 401, body: { error: { code: 'unauthorized' } } });
    const user = await token({ oid: 'user-1', scp: 'access_as_user' });
    expect(await call('sessions', { bearer: user })).toMatchObject({
      status: 403,
      body: { error: { code: 'not_an_operator' } },
    });
    const ops = await token({ oid: 'ops-1', roles: ['Voice.Operator'] });
    expect(await call('sessions', { bearer: ops })).toEqual({ status: 200, body: { sessions: [] } });
    expect(await call('agents/no-such-agent', { method: 'DELETE', bearer: ops })).toMatchObject({
      status: 404,
      body: { error: { code: 'not_found' } },
    });
    const json = { 'content-type': 'application/json' };
    expect(
      await call('agents', { method: 'POST', bearer: ops, headers: json, body: JSON.stringify({ id: 'x1' }) }),
    ).toMatchObject({ status: 400, body: { error: { code: 'invalid_agent' } } });
    expect(
      await call('agents', { method: 'POST', bearer: ops, headers: { 'content-type': 'text/plain' }, body: '{}' }),
    ).toMatchObject({ status: 415, body: { error: { code: 'unsupported_media_type' } } });
    const listed = await call('agents', { bearer: ops });
    expect(listed.status).toBe(200);
    expect(listed.body.agents.map((a: { id: string }) => a.id)).toEqual(
      expect.arrayContaining(['concierge', 'customer-support']),
    );
    // Audited with the operator's oid; the refused user too.
    const audit = await h.rows('operatoraudit');
    expect(audit.map((r) => `${r.operator} ${r.action} ${r.outcome}`)).toEqual(
      expect.arrayContaining([
        'user-1 sessions.list denied',
        'ops-1 sessions.list ok',
        'ops-1 agents.retire not_found',
        'ops-1 agents.create invalid',
        'ops-1 agents.list ok',
      ]),
    );
  });
});
