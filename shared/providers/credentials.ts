import { DefaultAzureCredential, getBearerTokenProvider, type TokenCredential } from '@azure/identity';
import type { AuthHeaders } from './realtime-client';

/** Entra scope for the Azure OpenAI data plane (and, for older resources, Voice Live). */
export const COGNITIVE_SCOPE = 'https://cognitiveservices.azure.com/.default';
/** Entra scope Voice Live documents for AI Foundry resources; the cognitiveservices one is still accepted. */
export const VOICE_LIVE_SCOPE = 'https://ai.azure.com/.default';

/** How a provider authenticates: a key in a header, or a bearer token produced per request. */
export type ProviderAuth = { kind: 'api-key'; key: string } | { kind: 'bearer'; token: () => Promise<string> };

export const apiKeyAuth = (key: string): ProviderAuth => ({ kind: 'api-key', key });
export const bearerKeyAuth = (key: string): ProviderAuth => ({ kind: 'bearer', token: async () => key });

let shared: TokenCredential | undefined;

/**
 * Keyless auth with the app's managed identity. `getBearerTokenProvider` keeps the token and refreshes it
 * shortly before expiry, so a token is not fetched per request (the credential itself caches too).
 */
export function entraAuth(credential?: TokenCredential, scope = COGNITIVE_SCOPE): ProviderAuth {
  return {
    kind: 'bearer',
    token: getBearerTokenProvider(credential ?? (shared ??= new DefaultAzureCredential()), scope),
  };
}

/** The headers one request (or WebSocket upgrade) carries for this auth. */
export function authHeaders(auth: ProviderAuth): AuthHeaders {
  return auth.kind === 'api-key'
    ? async () => ({ 'api-key': auth.key })
    : async () => ({ authorization: `Bearer ${await auth.token()}` });
}
