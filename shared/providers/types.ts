import type WebSocket from 'ws';
import type { RealtimeSessionCreateRequest } from 'openai/resources/realtime/realtime';
import type { ProviderName } from '../config/index';

/** The GA `session` object we send: built server-side from an agent definition. */
export type SessionConfig = RealtimeSessionCreateRequest;

export interface ClientSecret {
  /** Ephemeral key (`ek_…`); the only credential the browser ever sees. */
  value: string;
  /** Unix seconds. */
  expiresAt: number;
  session: unknown;
}

export interface ProviderCapabilities {
  webrtc: boolean;
  sip: boolean;
  clientSecrets: boolean;
  sideband: boolean;
}

/** Thrown for something a provider does not support; handlers map it to 501 with the provider named. */
export class UnsupportedByProvider extends Error {
  constructor(
    readonly provider: ProviderName,
    readonly feature: string,
  ) {
    super(`${feature} is not supported by the ${provider} provider`);
    this.name = 'UnsupportedByProvider';
  }
}

/** Thrown when the upstream service answers with an error; carries its status for mapping (429 → retry). */
export class UpstreamError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

/** One interface over every realtime service; adding a provider touches one folder under shared/providers. */
export interface RealtimeProvider {
  readonly name: ProviderName;
  readonly capabilities: ProviderCapabilities;
  mintClientSecret(session: SessionConfig, ttlSeconds: number): Promise<ClientSecret>;
  connectUrls(model: string): { webrtcUrl: string; websocketUrl: string };
  acceptCall(callId: string, session: SessionConfig): Promise<void>;
  rejectCall(callId: string, statusCode?: number): Promise<void>;
  /** Transfers a SIP call (SIP REFER) to `targetUri`, e.g. `tel:+14155550123` or `sip:agent@example.com`. */
  referCall(callId: string, targetUri: string): Promise<void>;
  hangupCall(callId: string): Promise<void>;
  /** Opens (and waits for) the sideband WebSocket of an existing call. */
  openSideband(callId: string): Promise<WebSocket>;
  /** Opens a direct (server-to-service) WebSocket session. */
  openDirect(model: string): Promise<WebSocket>;
  /**
   * Brokered WebRTC (the Live API): the backend creates the session with its own credential from the page's SDP
   * offer and returns the answer. Only providers without ephemeral keys have it; the page then never holds a
   * credential, and the returned id is the call the sideband attaches to.
   */
  startWebrtcSession?(session: SessionConfig, sdpOffer: string): Promise<BrokeredWebrtcSession>;
}

export interface BrokeredWebrtcSession {
  /** The service's session id (`live_…`): what the sideband attaches to and call control names. */
  callId: string;
  /** The SDP answer for the page. */
  sdp: string;
}
