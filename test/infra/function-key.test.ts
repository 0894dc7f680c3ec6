/** The api postdeploy hook: reads the MCP host key from Key Vault and installs it on the Function app via ARM. */
import { describe, expect, it } from 'vitest';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { HOST_KEY_NAME, hostKeyUrl, installMcpHostKey, secretUrl, targetFromEnv } from '../../infra/hooks/function-key';

const target = {
  subscriptionId: 'sub-1',
  resourceGroup: 'rg-dev',
  functionAppName: 'func-abc',
  keyVaultName: 'kv-abc',
};
const credential: TokenCredential = {
  getToken: async (scope) =>
    ({ token: `token-for-${String(scope)}`, expiresOnTimestamp: Date.now() + 60_000 }) as AccessToken,
};

function fakeAzure(hostStatuses: number[], secret = 'the-host-key-value-from-key-vault') {
  const calls: { url: string; method: string; auth: string; body?: unknown }[] = [];
  const fetchImpl = (async (url: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    calls.push({
      url: String(url),
      method: init?.method ?? 'GET',
      auth: headers.get('authorization') ?? '',
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    });
    if (String(url).includes('vault.azure.net'))
      return new Response(JSON.stringify({ value: secret }), { status: 200 });
    return new Response('{}', { status: hostStatuses.shift() ?? 200 });
  }) as typeof fetch;
  return { calls, fetchImpl };
}

describe('installMcpHostKey', () => {
  it('reads the Key Vault secret with a vault token and PUTs it as a host key with an ARM token', async () => {
    const { calls, fetchImpl } = fakeAzure([200]);
    await installMcpHostKey(target, credential, { fetch: fetchImpl, sleep: async () => {} });
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({
      url: secretUrl(target),
      method: 'GET',
      auth: 'Bearer token-for-https://vault.azure.net/.default',
    });
    expect(calls[1]).toMatchObject({
      url: hostKeyUrl(target),
      method: 'PUT',
      auth: 'Bearer token-for-https://management.azure.com/.default',
      body: { properties: { name: HOST_KEY_NAME, value: 'the-host-key-value-from-key-vault' } },
    });
    expect(hostKeyUrl(target)).toBe(
      'https://management.azure.com/subscriptions/sub-1/resourceGroups/rg-dev/providers/Microsoft.Web/sites/func-abc/host/default/functionKeys/mcp-builtin?api-version=2024-04-01',
    );
  });

  it('retries while the freshly deployed host is starting, and gives up with the status (never the value)', async () => {
    const ok = fakeAzure([503, 502, 200]);
    await installMcpHostKey(target, credential, { fetch: ok.fetchImpl, sleep: async () => {} });
    expect(ok.calls.filter((c) => c.method === 'PUT')).toHaveLength(3);

    const down = fakeAzure(Array(5).fill(503));
    const err = await installMcpHostKey(target, credential, {
      fetch: down.fetchImpl,
      attempts: 3,
      sleep: async () => {},
    }).catch((e: Error) => e);
    expect(String(err)).toContain('HTTP 503');
    expect(String(err)).not.toContain('the-host-key-value');

    const denied = fakeAzure([403]);
    await expect(
      installMcpHostKey(target, credential, { fetch: denied.fetchImpl, sleep: async () => {} }),
    ).rejects.toThrow('HTTP 403');
    expect(denied.calls.filter((c) => c.method === 'PUT')).toHaveLength(1);
  });

  it('names the missing azd output', () => {
    expect(() =>
      targetFromEnv({ AZURE_SUBSCRIPTION_ID: 's', AZURE_RESOURCE_GROUP: 'r', AZURE_FUNCTION_APP_NAME: 'f' }),
    ).toThrow('AZURE_KEY_VAULT_NAME');
  });
});
