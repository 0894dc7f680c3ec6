import { bearerKeyAuth } from '../credentials';
import { ProviderConfigError, type ProviderConfig, type ProviderOptions } from '../options';
import { gaRealtimeProvider, toWs, trimSlash } from '../realtime-client';
import type { RealtimeProvider } from '../types';

/** OpenAI platform: `https://api.openai.com/v1/realtime/...`, `Authorization: Bearer <key>`. */
export function openAIProvider(config: ProviderConfig, opts: ProviderOptions = {}): RealtimeProvider {
  if (!config.REALTIME_API_KEY) {
    throw new ProviderConfigError('REALTIME_API_KEY', 'the openai provider needs an API key (no keyless auth)');
  }
  const origin = trimSlash(config.REALTIME_ENDPOINT).replace(/\/v1$/i, '');
  const restBase = `${origin}/v1/realtime`;
  return gaRealtimeProvider(
    {
      name: 'openai',
      capabilities: { webrtc: true, sip: true, clientSecrets: true, sideband: true },
      restBase,
      wsBase: toWs(restBase),
      auth: bearerKeyAuth(config.REALTIME_API_KEY),
    },
    opts,
  );
}
