import { apiKeyAuth, entraAuth } from '../credentials';
import type { ProviderConfig, ProviderOptions } from '../options';
import { gaRealtimeProvider, toWs, trimSlash } from '../realtime-client';
import type { RealtimeProvider } from '../types';

/**
 * Azure OpenAI, GA v1 data plane: `https://{resource}.openai.azure.com/openai/v1/realtime/...` (no api-version;
 * the deployment name goes where OpenAI puts the model). Keyless with managed identity unless an API key is set.
 * The browser's WebRTC URL asks for `webrtcfilter=on`: its data channel then carries only speech, transcript
 * and item events, never the session's instructions or tool schemas.
 */
export function azureOpenAIProvider(
  config: ProviderConfig,
  opts: ProviderOptions = {},
  name: RealtimeProvider['name'] = 'azure-openai',
): RealtimeProvider {
  const origin = trimSlash(config.REALTIME_ENDPOINT).replace(/\/openai(\/v1)?$/i, '');
  const restBase = `${origin}/openai/v1/realtime`;
  return gaRealtimeProvider(
    {
      name,
      capabilities: { webrtc: true, sip: true, clientSecrets: true, sideband: true },
      restBase,
      wsBase: toWs(restBase),
      auth: config.REALTIME_API_KEY ? apiKeyAuth(config.REALTIME_API_KEY) : entraAuth(opts.credential),
      // What the filter leaves out (response.created/done, conversation.item.truncated, …) the page gets from the
      // worker over Web PubSub (worker/page-relay.ts), so the emulator provider asks for it too.
      webrtcQuery: 'webrtcfilter=on',
    },
    opts,
  );
}
