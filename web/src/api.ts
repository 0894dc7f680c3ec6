/** Calls to the Function app. Every failure becomes a UserFacingError with a sentence a person can act on. */
import { UserFacingError } from './failures';

export interface WebConfig {
  /** Base URL of the Function app's HTTP API, ending in /api. */
  apiBaseUrl: string;
  /** `dev` sends an x-user-id header (local stack only); otherwise the platform's own auth (cookies) is used. */
  authMode: 'dev' | 'platform';
}

export interface AgentSummary {
  id: string;
  displayName: string;
  description?: string;
  voice?: string;
  greeting?: string;
  /** `sdp`: the backend brokers the WebRTC offer (Live); `token`: the page gets an ephemeral key (Realtime). */
  connect?: 'sdp' | 'token';
}

export interface SessionGrant {
  sessionId: string;
  /** Token flow only. */
  clientSecret?: string;
  expiresAt?: number | string;
  webrtcUrl?: string;
  /** Brokered flow only: the service's SDP answer. */
  sdp?: string;
  websocketUrl?: string;
  agent?: AgentSummary;
}

export interface SessionInfo {
  sessionId?: string;
  state?: string;
  [k: string]: unknown;
}

const TIMEOUT_MS = 15_000;

export async function loadConfig(): Promise<WebConfig> {
  let res: Response;
  try {
    res = await fetch('config.json', { cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch {
    throw new UserFacingError(
      'unreachable',
      'This page could not load its configuration (config.json). Reload the page.',
    );
  }
  if (!res.ok)
    throw new UserFacingError('config', `This page's configuration is missing (config.json answered ${res.status}).`);
  const cfg = (await res.json()) as Partial<WebConfig>;
  if (!cfg.apiBaseUrl) throw new UserFacingError('config', 'config.json does not name the backend (apiBaseUrl).');
  return { apiBaseUrl: cfg.apiBaseUrl.replace(/\/+$/, ''), authMode: cfg.authMode === 'platform' ? 'platform' : 'dev' };
}

export class Api {
  constructor(
    private readonly config: WebConfig,
    private readonly userId: () => string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.config.authMode === 'dev') headers['x-user-id'] = this.userId();
    let res: Response;
    try {
      res = await fetch(`${this.config.apiBaseUrl}/${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: this.config.authMode === 'platform' ? 'include' : 'omit',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      if ((err as Error).name === 'TimeoutError') {
        throw new UserFacingError(
          'timeout',
          `The backend did not answer within ${TIMEOUT_MS / 1000} s (${method} /api/${path}).`,
        );
      }
      throw new UserFacingError(
        'unreachable',
        `Cannot reach the backend at ${this.config.apiBaseUrl}. Check that it is running and reachable.`,
      );
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
      const detail = e?.message ? `: ${e.message}` : '';
      if (res.status === 401 || res.status === 403) {
        throw new UserFacingError(
          'auth',
          `The backend refused the request (${res.status}${detail}). Sign in again or check your user id.`,
        );
      }
      if (res.status === 429) {
        const after = res.headers.get('retry-after');
        throw new UserFacingError(
          'rate_limited',
          `Too many requests${after ? `; try again in ${after} s` : '; wait a moment and try again'}.`,
        );
      }
      if (res.status === 502 || res.status === 503) {
        throw new UserFacingError(
          e?.code ?? 'unavailable',
          `The backend cannot reach a service it needs right now (${res.status}${detail}). Try again shortly.`,
        );
      }
      throw new UserFacingError(
        e?.code ?? 'backend',
        `The backend answered ${res.status}${detail || ` for ${method} /api/${path}`}.`,
      );
    }
    return json as T;
  }

  async agents(): Promise<AgentSummary[]> {
    const body = await this.call<unknown>('GET', 'agents');
    const list = Array.isArray(body)
      ? body
      : ((body as { agents?: unknown; value?: unknown })?.agents ?? (body as { value?: unknown })?.value);
    if (!Array.isArray(list))
      throw new UserFacingError('backend', 'The backend returned an agent list this page does not understand.');
    return list as AgentSummary[];
  }

  createSession(agentId: string, resumeSessionId?: string, sdp?: string): Promise<SessionGrant> {
    return this.call('POST', 'sessions', {
      agentId,
      ...(resumeSessionId ? { resumeSessionId } : {}),
      ...(sdp ? { sdp } : {}),
    });
  }

  reportCall(sessionId: string, callId: string): Promise<unknown> {
    return this.call('POST', `sessions/${encodeURIComponent(sessionId)}/call`, { callId });
  }

  session(sessionId: string): Promise<SessionInfo> {
    return this.call('GET', `sessions/${encodeURIComponent(sessionId)}`);
  }

  negotiate(sessionId: string): Promise<{ url: string }> {
    return this.call('GET', `negotiate?sessionId=${encodeURIComponent(sessionId)}`);
  }
}
