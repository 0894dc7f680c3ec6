import { apiKeyHeader, entraBearer } from '../credentials';
import type { ProviderConfig, ProviderOptions } from '../options';
import { gaRealtimeProvider, toWs, trimSlash } from '../realtime-client';
import type { RealtimeProvider } from '../types';

/**
 * Azure OpenAI, GA v1 data plane: `https://{resource}.openai.azure.com/openai/v1/realtime/...` (no api-version;
 * the deployment name goes where OpenAI puts the model). Keyless with managed identity unless an API key is set.
 */
export function azureOpenAIProvider(config: ProviderConfig, opts: ProviderOptions = {}): RealtimeProvider {
  const origin = trimSlash(config.REALTIME_ENDPOINT).replace(/\/openai(\/v1)?$/i, '');
  const restBase = `${origin}/openai/v1/realtime`;
  return gaRealtimeProvider(
    {
      name: 'azure-openai',
      capabilities: { webrtc: true, sip: true, clientSecrets: true, sideband: true },
      restBase,
      wsBase: toWs(restBase),
      auth: config.REALTIME_API_KEY ? apiKeyHeader(config.REALTIME_API_KEY) : entraBearer(opts.credential),
    },
    opts,
  );
}
