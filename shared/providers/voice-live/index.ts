import { apiKeyAuth, authHeaders, entraAuth, VOICE_LIVE_SCOPE } from '../credentials';
import type { ProviderConfig, ProviderOptions } from '../options';
import { openSocket, toWs, trimSlash } from '../realtime-client';
import { UnsupportedByProvider, type RealtimeProvider } from '../types';

/**
 * AI Foundry Voice Live: one WebSocket endpoint,
 * `wss://{resource}.services.ai.azure.com/voice-live/realtime?api-version=…&model=…`, speaking the Realtime
 * event protocol (plus Azure voices, noise suppression, avatars). What it does NOT offer, compared with the
 * GA Realtime API this app is built around:
 * - no `client_secrets` ephemeral keys: a browser cannot be handed a short-lived, config-locked token;
 * - no `/realtime/calls` SDP endpoint: its WebRTC (preview) is negotiated over the server's WebSocket, so the
 *   browser-direct WebRTC flow and the sideband-by-`call_id` attach do not exist;
 * - no SIP `realtime.call.incoming` webhooks or accept/reject/hangup.
 * So only server-to-service WebSocket sessions (`openDirect`) work; everything else is refused with
 * UnsupportedByProvider (HTTP 501 naming the provider and the feature) rather than half-working.
 */
export function voiceLiveProvider(config: ProviderConfig, opts: ProviderOptions = {}): RealtimeProvider {
  const origin = trimSlash(config.REALTIME_ENDPOINT).replace(/\/voice-live(\/realtime)?$/i, '');
  const wsBase = `${toWs(origin)}/voice-live/realtime`;
  const auth = authHeaders(
    config.REALTIME_API_KEY ? apiKeyAuth(config.REALTIME_API_KEY) : entraAuth(opts.credential, VOICE_LIVE_SCOPE),
  );
  const refuse = (feature: string) => Promise.reject(new UnsupportedByProvider('voice-live', feature));
  const directUrl = (model: string) =>
    `${wsBase}?api-version=${encodeURIComponent(config.REALTIME_API_VERSION)}&model=${encodeURIComponent(model)}`;
  return {
    name: 'voice-live',
    capabilities: { webrtc: false, sip: false, clientSecrets: false, sideband: false },
    mintClientSecret: () => refuse('client secrets (ephemeral browser tokens)'),
    connectUrls() {
      throw new UnsupportedByProvider('voice-live', 'browser WebRTC/WebSocket connect URLs');
    },
    acceptCall: () => refuse('SIP calls (accept)'),
    rejectCall: () => refuse('SIP calls (reject)'),
    referCall: () => refuse('SIP calls (refer)'),
    hangupCall: () => refuse('SIP calls (hang up)'),
    openSideband: () => refuse('sideband attach by call_id'),
    openDirect: (model) => openSocket(directUrl(model), auth, opts),
  };
}
