import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../shared/auth/index';
import { loadFunctionsConfig } from '../../shared/config/index';

const TENANT = '11111111-2222-3333-4444-555555555555';
const AUDIENCE = 'api://voice-agents';
const h = (o: Record<string, string>) => new Headers(o);

describe('the operator app role', () => {
  it('entra: the role is carried on the caller and is a permission on its own (no scope needed)', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    const auth = createAuthenticator(
      { AUTH_MODE: 'entra', ENTRA_TENANT_ID: TENANT, ENTRA_AUDIENCE: AUDIENCE, OPERATOR_APP_ROLE: 'Voice.Operator' },
      { jwks: createLocalJWKSet({ keys: [jwk] }) },
    );
    const token = (claims: Record<string, unknown>) =>
      new SignJWT({ iss: `https://login.microsoftonline.com/${TENANT}/v2.0`, aud: AUDIENCE, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setExpirationTime('10m')
        .sign(privateKey);
    const ops = await auth(h({ authorization: `Bearer ${await token({ oid: 'ops-1', roles: ['Voice.Operator'] })}` }));
    expect(ops.roles).toEqual(['Voice.Operator']);
    const user = await auth(h({ authorization: `Bearer ${await token({ oid: 'u-1', scp: 'access_as_user' })}` }));
    expect(user.roles).toEqual([]);
    // A role the API does not define is no permission.
    await expect(
      auth(h({ authorization: `Bearer ${await token({ oid: 'x', roles: ['Something.Else'] })}` })),
    ).rejects.toMatchObject({ status: 403, code: 'insufficient_scope' });
  });

  it('easyauth: role claims of the principal', async () => {
    const auth = createAuthenticator({ AUTH_MODE: 'easyauth' });
    const principal = Buffer.from(
      JSON.stringify({
        claims: [
          { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: 'oid-7' },
          { typ: 'roles', val: 'Voice.Operator' },
        ],
      }),
    ).toString('base64');
    expect((await auth(h({ 'x-ms-client-principal': principal }))).roles).toEqual(['Voice.Operator']);
  });

  it('dev: only the users DEV_OPERATOR_USERS names, and that setting only in dev mode', async () => {
    const auth = createAuthenticator({ AUTH_MODE: 'dev', DEV_OPERATOR_USERS: ['ops'], OPERATOR_APP_ROLE: 'Ops' });
    expect((await auth(h({ 'x-user-id': 'ops' }))).roles).toEqual(['Ops']);
    expect((await auth(h({ 'x-user-id': 'maya' }))).roles).toEqual([]);
    expect((await createAuthenticator({ AUTH_MODE: 'dev' })(h({ 'x-user-id': 'ops' }))).roles).toEqual([]);
    const base = {
      REALTIME_ENDPOINT: 'http://127.0.0.1:1',
      WORKER_AUTH_SECRET: 'x'.repeat(16),
      STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
      WORKER_URL: 'http://127.0.0.1:2',
    };
    expect(
      () =>
        loadFunctionsConfig({
          ...base,
          AUTH_MODE: 'entra',
          ENTRA_TENANT_ID: TENANT,
          ENTRA_AUDIENCE: AUDIENCE,
          DEV_OPERATOR_USERS: 'ops',
        }),
      'DEV_OPERATOR_USERS outside dev mode',
    ).toThrow(/DEV_OPERATOR_USERS: only with AUTH_MODE=dev/);
    expect(loadFunctionsConfig({ ...base, AUTH_MODE: 'dev', DEV_OPERATOR_USERS: 'ops' }).DEV_OPERATOR_USERS).toEqual([
      'ops',
    ]);
  });
});
