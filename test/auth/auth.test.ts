import { createLocalJWKSet, createRemoteJWKSet, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { type HttpError } from '../../shared/http/errors';
import { createAuthenticator, type Authenticator } from '../../shared/auth/index';

const TENANT = '11111111-2222-3333-4444-555555555555';
const AUDIENCE = 'api://voice-agents';
const ISS = `https://login.microsoftonline.com/${TENANT}/v2.0`;
const h = (o: Record<string, string>) => new Headers(o);
const fail = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected rejection');
    },
    (e: unknown) => e as HttpError,
  );

describe('authentication modes', () => {
  let entra: Authenticator;
  let sign: (claims: JWTPayload, opts?: { exp?: string | number; key?: CryptoKey }) => Promise<string>;
  let otherKey: CryptoKey;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    otherKey = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
    entra = createAuthenticator(
      { AUTH_MODE: 'entra', ENTRA_TENANT_ID: TENANT, ENTRA_AUDIENCE: AUDIENCE },
      { jwks: createLocalJWKSet({ keys: [jwk] }) },
    );
    sign = (claims, opts = {}) =>
      new SignJWT({ iss: ISS, aud: AUDIENCE, ...claims })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setIssuedAt()
        .setExpirationTime(opts.exp ?? '10m')
        .sign(opts.key ?? privateKey);
  });

  it('entra: a valid token yields the oid', async () => {
    const token = await sign({
      oid: 'user-oid-1',
      sub: 'pairwise',
      preferred_username: 'ada@contoso.com',
      scp: 'access_as_user',
    });
    await expect(entra(h({ authorization: `Bearer ${token}` }))).resolves.toEqual({
      userId: 'user-oid-1',
      name: 'ada@contoso.com',
      via: 'entra',
      roles: [],
    });
  });

  it('entra: missing, expired, wrong audience, wrong issuer and wrongly signed tokens are 401', async () => {
    const missing = await fail(entra(h({})));
    expect(missing).toMatchObject({ status: 401, headers: { 'www-authenticate': 'Bearer' } });
    expect(
      await fail(
        entra(h({ authorization: `Bearer ${await sign({ oid: 'u' }, { exp: Math.floor(Date.now() / 1000) - 120 })}` })),
      ),
    ).toMatchObject({ status: 401, code: 'token_expired' });
    expect(
      await fail(entra(h({ authorization: `Bearer ${await sign({ oid: 'u', aud: 'api://someone-else' })}` }))),
    ).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(
      await fail(
        entra(
          h({
            authorization: `Bearer ${await sign({ oid: 'u', iss: 'https://login.microsoftonline.com/other/v2.0' })}`,
          }),
        ),
      ),
    ).toMatchObject({ status: 401 });
    expect(
      await fail(entra(h({ authorization: `Bearer ${await sign({ oid: 'u' }, { key: otherKey })}` }))),
    ).toMatchObject({ status: 401 });
  });

  it('entra: an unreachable key set is 503 (retry later), not a 401 blaming the caller', async () => {
    const down = createAuthenticator(
      { AUTH_MODE: 'entra', ENTRA_TENANT_ID: TENANT, ENTRA_AUDIENCE: AUDIENCE },
      { jwks: createRemoteJWKSet(new URL('http://127.0.0.1:1/keys'), { timeoutDuration: 1000 }) },
    );
    const err = await fail(down(h({ authorization: `Bearer ${await sign({ oid: 'u' })}` })));
    expect(err).toMatchObject({ status: 503, code: 'auth_unavailable', headers: { 'retry-after': '5' } });
  });

  it('easyauth: reads the oid claim from x-ms-client-principal; absent or malformed is 401', async () => {
    const easy = createAuthenticator({ AUTH_MODE: 'easyauth' });
    const principal = Buffer.from(
      JSON.stringify({
        auth_typ: 'aad',
        claims: [
          { typ: 'http://schemas.microsoft.com/identity/claims/objectidentifier', val: 'oid-42' },
          { typ: 'name', val: 'Grace' },
        ],
      }),
    ).toString('base64');
    await expect(easy(h({ 'x-ms-client-principal': principal }))).resolves.toEqual({
      userId: 'oid-42',
      name: 'Grace',
      via: 'easyauth',
      roles: [],
    });
    expect(await fail(easy(h({})))).toMatchObject({ status: 401 });
    expect(await fail(easy(h({ 'x-ms-client-principal': '!!!' })))).toMatchObject({ status: 401 });
  });

  it('dev: trusts x-user-id, defaults to dev-user, refuses odd ids', async () => {
    const dev = createAuthenticator({ AUTH_MODE: 'dev' });
    await expect(dev(h({}))).resolves.toMatchObject({ userId: 'dev-user' });
    await expect(dev(h({ 'x-user-id': 'alice' }))).resolves.toMatchObject({ userId: 'alice' });
    expect(await fail(dev(h({ 'x-user-id': "x' or 1 eq 1" })))).toMatchObject({ status: 400 });
  });
});
