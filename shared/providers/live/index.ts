import { apiKeyAuth, authHeaders, bearerKeyAuth, entraAuth } from '../credentials';
import { ProviderConfigError, type ProviderConfig, type ProviderOptions } from '../options';
import { openSocket, toWs } from '../realtime-client';
import { sdkClient } from '../sdk-rest';
import { UnsupportedByProvider, UpstreamError, type RealtimeProvider } from '../types';
import { liveApiBase } from './endpoint';
import { liveAcceptConfig, liveWebrtcConfig, type LiveSessionOptions } from './session-config';

/** SIP status a reject sends when the caller names none: 603 Decline. */
const DEFAULT_REJECT_STATUS = 603;
/** The delegation model when TEXT_MODEL is not in the provider's settings (unit tests). */
const DEFAULT_DELEGATION_MODEL = 'gpt-4.1-mini';

/**
 * OpenAI's Live API (`gpt-live-1`): `https://api.openai.com/v1/live/…` with a Bearer key, or Azure's
 * `https://{resource}.openai.azure.com/openai/v1/live/…` with the deployment as model and an `api-key` or, without
 * a key, the app's Entra identity. Through the `openai` package's `client.live` (create, sessions.accept / reject /
 * refer / hangup); the sideband is a `ws` socket on `…/live/sessions/{id}/attach` with the same auth, the URL the
 * SDK's `SidebandWS` builds — the worker keeps its own socket (message holding, delta skipping, reconnects), which
 * the SDK class would duplicate.
 *
 * There are no ephemeral keys: the page's SDP offer comes to the backend, which creates the session with the server
 * credential (`startWebrtcSession`) and hands back the answer. Instructions, voice and tools are fixed at start.
 */
export function liveProvider(config: ProviderConfig, opts: ProviderOptions = {}): RealtimeProvider {
  const { base, azure } = liveApiBase(config.REALTIME_ENDPOINT);
  if (!azure && !config.REALTIME_API_KEY) {
    throw new ProviderConfigError('REALTIME_API_KEY', 'the live provider on OpenAI needs an API key (no keyless auth)');
  }
  const auth = config.REALTIME_API_KEY
    ? azure
      ? apiKeyAuth(config.REALTIME_API_KEY)
      : bearerKeyAuth(config.REALTIME_API_KEY)
    : entraAuth(opts.credential);
  const call = sdkClient(base, auth, opts);
  const wsAuth = authHeaders(auth);
  const live: LiveSessionOptions = { delegationModel: config.TEXT_MODEL ?? DEFAULT_DELEGATION_MODEL };
  const sessionPath = (id: string) => `/live/sessions/${encodeURIComponent(id)}`;
  const refuse = (feature: string) => new UnsupportedByProvider('live', feature);
  // The worker and the page only broker and attach; the evals run scenarios on the primary WebSocket (openDirect).
  return {
    name: 'live',
    capabilities: { webrtc: true, sip: true, clientSecrets: false, sideband: true },
    mintClientSecret: () => Promise.reject(refuse('client secrets (Live brokers the SDP instead)')),
    connectUrls() {
      throw refuse('browser connect URLs (Live brokers the SDP through POST /api/sessions)');
    },
    async startWebrtcSession(session, sdpOffer) {
      const created = await call((client) =>
        client.live.create({ session: liveWebrtcConfig(session, live), transport: { type: 'webrtc', sdp: sdpOffer } }),
      );
      const id = created?.session?.id;
      const sdp = created?.transport?.sdp;
      if (typeof id !== 'string' || !id || typeof sdp !== 'string' || !sdp)
        throw new UpstreamError(502, 'upstream Live session answer lacks session.id / transport.sdp');
      return { callId: id, sdp };
    },
    acceptCall: (id, session) =>
      call((client) => client.live.sessions.accept(id, { session: liveAcceptConfig(session, live) })),
    rejectCall: (id, statusCode) =>
      call((client) => client.live.sessions.reject(id, { status_code: statusCode ?? DEFAULT_REJECT_STATUS })),
    referCall: (id, targetUri) => call((client) => client.live.sessions.refer(id, { target_uri: targetUri })),
    hangupCall: (id) => call((client) => client.live.sessions.hangup(id)),
    openSideband: (id) => openSocket(`${toWs(base)}${sessionPath(id)}/attach`, wsAuth, opts),
    // The primary WebSocket (`…/live/sessions`, no model in the URL: it goes in `session.start`), for the evals.
    openDirect: () => openSocket(`${toWs(base)}/live/sessions`, wsAuth, opts),
  };
}
