import type { IncomingHttpHeaders } from 'node:http';

/**
 * Which real service the emulator stands in for. Each accepts only that service's paths and credentials
 * (sources in README.md, "Rules"); `azure-openai` is the default because the `emulator` provider speaks it.
 */
export const PROFILES = ['azure-openai', 'openai', 'voice-live', 'live'] as const;
export type EmulatorProfile = (typeof PROFILES)[number];

export function parseProfile(value: string | undefined): EmulatorProfile {
  if (!value) return 'azure-openai';
  if ((PROFILES as readonly string[]).includes(value)) return value as EmulatorProfile;
  throw new Error(`REALTIME_EMULATOR_PROFILE must be one of ${PROFILES.join(', ')}; got '${value}'`);
}

/**
 * The service route a request path names under this profile (`/v1/realtime/calls`, `/v1/chat/completions`,
 * `/voice-live/realtime`), or undefined when the profile's service has no such path.
 */
export function routeOf(profile: EmulatorProfile, pathname: string): string | undefined {
  const p = pathname.replace(/\/+$/, '') || '/';
  if (p.startsWith('/_emulator/')) return p;
  if (profile === 'live') {
    // OpenAI's APIs under /v1, Azure's under /openai/v1: Live, and Realtime beside it (the services have both).
    const q = p.startsWith('/openai/v1/') ? p.slice('/openai'.length) : p.startsWith('/v1/') ? p : undefined;
    if (/^\/openai\/deployments\/[^/]+\/chat\/completions$/.test(p)) return '/v1/chat/completions';
    return q === '/v1/chat/completions' ||
      q === '/v1/realtime' ||
      q?.startsWith('/v1/live/') ||
      q?.startsWith('/v1/realtime/')
      ? q
      : undefined;
  }
  if (profile === 'openai') return p.startsWith('/v1/') || p === '/v1' ? p : undefined;
  // Azure OpenAI and Foundry (Voice Live) resources serve the v1 data plane under /openai/v1, plus the
  // classic deployment path for chat completions.
  const deployment = /^\/openai\/deployments\/[^/]+\/chat\/completions$/.exec(p);
  if (deployment) return '/v1/chat/completions';
  if (profile === 'voice-live') {
    if (p === '/voice-live/realtime') return p;
    return p === '/openai/v1/chat/completions' ? '/v1/chat/completions' : undefined;
  }
  return p.startsWith('/openai/v1/') ? p.slice('/openai'.length) : undefined;
}

/**
 * The service whose credential rules a request follows: under `live`, OpenAI's for `/v1/…` and Azure's for
 * `/openai/…`; every other profile is one service.
 */
export function serviceProfileOf(profile: EmulatorProfile, pathname: string): EmulatorProfile {
  if (profile !== 'live') return profile;
  return pathname.startsWith('/openai/') ? 'azure-openai' : 'openai';
}

/** A credential as the request carried it; where it came from decides what it may be. */
export type Credential =
  { via: 'api-key'; value: string } | { via: 'bearer'; value: string } | { via: 'subprotocol'; value: string };

/**
 * What the service reads: OpenAI only `Authorization: Bearer` (and the browser subprotocol on WebSockets);
 * Azure OpenAI and Voice Live the `api-key` header (or query parameter) or an Entra bearer token.
 */
export function credentialOf(
  profile: EmulatorProfile,
  headers: IncomingHttpHeaders,
  url: URL,
  websocket: boolean,
): Credential | undefined {
  profile = serviceProfileOf(profile, url.pathname);
  const auth = headers.authorization;
  const bearer = typeof auth === 'string' ? /^Bearer\s+(.+)$/i.exec(auth.trim())?.[1] : undefined;
  if (profile !== 'openai') {
    const key = headers['api-key'];
    if (typeof key === 'string' && key) return { via: 'api-key', value: key };
    const fromQuery = url.searchParams.get('api-key');
    if (fromQuery && (websocket || profile === 'voice-live')) return { via: 'api-key', value: fromQuery };
  }
  if (bearer) return { via: 'bearer', value: bearer };
  const protocols = headers['sec-websocket-protocol'];
  if (websocket && profile !== 'voice-live' && typeof protocols === 'string') {
    for (const p of protocols.split(',').map((s) => s.trim()))
      if (p.startsWith('openai-insecure-api-key.'))
        return { via: 'subprotocol', value: p.slice('openai-insecure-api-key.'.length) };
  }
  return undefined;
}

/** Audiences an Entra token for the resource carries (scope `<audience>/.default`). */
const ENTRA_AUDIENCES: Record<EmulatorProfile, string[]> = {
  'azure-openai': ['https://cognitiveservices.azure.com', 'https://ai.azure.com'],
  'voice-live': ['https://ai.azure.com', 'https://cognitiveservices.azure.com'],
  openai: [],
  live: ['https://cognitiveservices.azure.com', 'https://ai.azure.com'],
};

/**
 * An Entra access token's claims are checked (audience, expiry), not its signature: offline there is no
 * tenant to fetch keys from. Returns why it is refused, or undefined when it passes.
 */
export function entraTokenProblem(profile: EmulatorProfile, token: string, nowMs: number): string | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return 'not an Entra access token (a JWT)';
  let claims: { aud?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return 'not an Entra access token (a JWT)';
  }
  const audiences = ENTRA_AUDIENCES[profile];
  const aud = typeof claims.aud === 'string' ? claims.aud.replace(/\/+$/, '') : '';
  if (!audiences.includes(aud)) return `token audience '${aud}' is not one of ${audiences.join(', ')}`;
  if (typeof claims.exp !== 'number' || claims.exp * 1000 <= nowMs) return 'token expired';
  return undefined;
}

/**
 * Events Azure still sends on a WebRTC data channel opened with `webrtcfilter=on`; the rest (session
 * config, tool calls, responses) stays off the browser.
 */
export const WEBRTC_FILTERED_EVENTS: ReadonlySet<string> = new Set([
  'input_audio_buffer.speech_started',
  'input_audio_buffer.speech_stopped',
  'output_audio_buffer.started',
  'output_audio_buffer.stopped',
  'conversation.item.input_audio_transcription.completed',
  'conversation.item.added',
  'conversation.item.created',
  'response.output_text.delta',
  'response.output_text.done',
  'response.output_audio_transcript.delta',
  'response.output_audio_transcript.done',
]);
