import { DefaultAzureCredential, getBearerTokenProvider, type TokenCredential } from '@azure/identity';
import type { AuthHeaders } from './realtime-client';

/** Entra scope for Azure OpenAI and AI Foundry (Voice Live) data planes. */
export const COGNITIVE_SCOPE = 'https://cognitiveservices.azure.com/.default';

export const apiKeyHeader =
  (key: string): AuthHeaders =>
  async () => ({ 'api-key': key });

export const bearerKey =
  (key: string): AuthHeaders =>
  async () => ({ authorization: `Bearer ${key}` });

let shared: TokenCredential | undefined;

/**
 * Keyless auth with the app's managed identity. `getBearerTokenProvider` keeps the token and refreshes it
 * shortly before expiry, so a token is not fetched per request (the credential itself caches too).
 */
export function entraBearer(credential?: TokenCredential, scope = COGNITIVE_SCOPE): AuthHeaders {
  const getToken = getBearerTokenProvider(credential ?? (shared ??= new DefaultAzureCredential()), scope);
  return async () => ({ authorization: `Bearer ${await getToken()}` });
}
