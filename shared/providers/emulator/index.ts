import { apiKeyHeader } from '../credentials';
import { ProviderConfigError, type ProviderConfig, type ProviderOptions } from '../options';
import { gaRealtimeProvider, toWs, trimSlash } from '../realtime-client';
import type { RealtimeProvider } from '../types';

/**
 * The local realtime emulator (emulators/realtime), spoken to exactly like Azure OpenAI's v1 paths with an
 * `api-key`, so the local stack exercises the production code path.
 */
export function emulatorProvider(config: ProviderConfig, opts: ProviderOptions = {}): RealtimeProvider {
  if (!config.REALTIME_API_KEY) {
    throw new ProviderConfigError('REALTIME_API_KEY', 'the emulator provider needs the emulator API key');
  }
  const restBase = `${trimSlash(config.REALTIME_ENDPOINT)}/openai/v1/realtime`;
  return gaRealtimeProvider(
    {
      name: 'emulator',
      capabilities: { webrtc: true, sip: true, clientSecrets: true, sideband: true },
      restBase,
      wsBase: toWs(restBase),
      auth: apiKeyHeader(config.REALTIME_API_KEY),
    },
    opts,
  );
}
