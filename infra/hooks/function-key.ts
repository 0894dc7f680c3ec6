/**
 * Installs the built-in MCP server's host key on the Function app: the value lives in Key Vault
 * (`mcp-builtin-key`, written by the Bicep), the worker reads it from there as MCP_BUILTIN_KEY, and this makes the
 * Functions host accept it for function-level routes (/api/mcp). Both calls are Entra-authenticated with the
 * deployer's login; the value is never printed.
 *
 * It runs after `azd deploy` of the api service (a host with no code deployed yet cannot take keys).
 */
import type { TokenCredential } from '@azure/identity';

export const HOST_KEY_NAME = 'mcp-builtin';
export const KEY_VAULT_SECRET = 'mcp-builtin-key';
const ARM = 'https://management.azure.com';
const ARM_API = '2024-04-01';
const KV_API = '7.4';

export interface FunctionKeyTarget {
  subscriptionId: string;
  resourceGroup: string;
  functionAppName: string;
  keyVaultName: string;
}

export function targetFromEnv(env: NodeJS.ProcessEnv): FunctionKeyTarget {
  const pick = (name: string) => {
    const v = env[name];
    if (!v) throw new Error(`${name} is not set (run through azd, which exports the provision outputs)`);
    return v;
  };
  return {
    subscriptionId: pick('AZURE_SUBSCRIPTION_ID'),
    resourceGroup: pick('AZURE_RESOURCE_GROUP'),
    functionAppName: pick('AZURE_FUNCTION_APP_NAME'),
    keyVaultName: pick('AZURE_KEY_VAULT_NAME'),
  };
}

export function hostKeyUrl(t: FunctionKeyTarget, keyName = HOST_KEY_NAME): string {
  const site = `/subscriptions/${t.subscriptionId}/resourceGroups/${t.resourceGroup}/providers/Microsoft.Web/sites/${t.functionAppName}`;
  return `${ARM}${site}/host/default/functionKeys/${encodeURIComponent(keyName)}?api-version=${ARM_API}`;
}

export function secretUrl(t: FunctionKeyTarget, name = KEY_VAULT_SECRET): string {
  return `https://${t.keyVaultName}.vault.azure.net/secrets/${encodeURIComponent(name)}?api-version=${KV_API}`;
}

async function bearer(credential: TokenCredential, scope: string): Promise<string> {
  const token = await credential.getToken(scope);
  if (!token) throw new Error(`no token for ${scope}`);
  return `Bearer ${token.token}`;
}

/** Reads the key from Key Vault and PUTs it as a host key. Idempotent. Retries while the host is still starting. */
export async function installMcpHostKey(
  t: FunctionKeyTarget,
  credential: TokenCredential,
  opts: { fetch?: typeof fetch; attempts?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<void> {
  const doFetch = opts.fetch ?? fetch;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const secret = await doFetch(secretUrl(t), {
    headers: { authorization: await bearer(credential, 'https://vault.azure.net/.default') },
  });
  if (!secret.ok)
    throw new Error(`reading ${KEY_VAULT_SECRET} from Key Vault ${t.keyVaultName}: HTTP ${secret.status}`);
  const value = ((await secret.json()) as { value?: string }).value;
  if (!value) throw new Error(`${KEY_VAULT_SECRET} in ${t.keyVaultName} is empty`);

  const attempts = opts.attempts ?? 10;
  for (let i = 1; ; i++) {
    const res = await doFetch(hostKeyUrl(t), {
      method: 'PUT',
      headers: { authorization: await bearer(credential, `${ARM}/.default`), 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { name: HOST_KEY_NAME, value } }),
    });
    if (res.ok) return;
    // The host answers 5xx (or 4xx "host not running") for a while after a deploy restarts it.
    const retryable = res.status >= 500 || res.status === 409 || res.status === 400;
    if (!retryable || i >= attempts)
      throw new Error(`setting host key ${HOST_KEY_NAME} on ${t.functionAppName}: HTTP ${res.status}`);
    await sleep(Math.min(30_000, 3_000 * i));
  }
}
