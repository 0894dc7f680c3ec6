import type OpenAI from 'openai';
import type { ProviderAuth } from './credentials';
import { parseRetryAfter, type RealtimeClientOptions } from './realtime-client';
import { UpstreamError, type ClientSecret, type SessionConfig } from './types';

/** The GA REST calls a provider makes: client secrets and SIP call control. */
export interface RealtimeRest {
  mintClientSecret(session: SessionConfig, ttlSeconds: number): Promise<ClientSecret>;
  accept(callId: string, session: SessionConfig): Promise<void>;
  reject(callId: string, statusCode?: number): Promise<void>;
  refer(callId: string, targetUri: string): Promise<void>;
  hangup(callId: string): Promise<void>;
}

/**
 * The `openai` package's `realtime.clientSecrets` / `realtime.calls` over one base (`…/v1` or Azure's
 * `…/openai/v1`). Azure's v1 data plane takes the plain client (no api-version); an API key goes in the
 * `api-key` header (the bearer the client would add is removed), an Entra token as the bearer. No SDK
 * retries: callers (the webhook sender, the page) retry, and a retried accept must not double up.
 */
export function realtimeRest(baseURL: string, auth: ProviderAuth, opts: RealtimeClientOptions = {}): RealtimeRest {
  const call = sdkClient(baseURL, auth, opts);
  return {
    async mintClientSecret(session, ttlSeconds) {
      const body = await call((c) =>
        c.realtime.clientSecrets.create({ expires_after: { anchor: 'created_at', seconds: ttlSeconds }, session }),
      );
      return parseClientSecret(body);
    },
    accept: (callId, session) => call((c) => c.realtime.calls.accept(callId, session)),
    reject: (callId, statusCode) =>
      call((c) => c.realtime.calls.reject(callId, statusCode === undefined ? {} : { status_code: statusCode })),
    refer: (callId, targetUri) => call((c) => c.realtime.calls.refer(callId, { target_uri: targetUri })),
    hangup: (callId) => call((c) => c.realtime.calls.hangup(callId)),
  };
}

type Sdk = typeof import('openai');
let sdk: Promise<Sdk> | undefined;
/**
 * The SDK (≈390 KiB minified) is imported on a provider's first request: only the mint and call control use it, so
 * it stays out of the Function app's entry chunk, which every cold instance parses before serving anything.
 */
const loadSdk = () => (sdk ??= import('openai'));

/**
 * `call` runs one SDK request on one `openai` client over a base URL (our auth, no retries; made on first use) and
 * maps what the SDK throws onto UpstreamError. Shared by the Realtime and the Live providers.
 */
export function sdkClient(baseURL: string, auth: ProviderAuth, opts: RealtimeClientOptions = {}) {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let client: Promise<{ client: OpenAI; mod: Sdk }> | undefined;
  const open = () =>
    (client ??= loadSdk().then((mod) => ({
      mod,
      client: new mod.default({
        baseURL,
        ...(auth.kind === 'api-key'
          ? { apiKey: auth.key, defaultHeaders: { 'api-key': auth.key, authorization: null } }
          : { apiKey: auth.token }),
        timeout: timeoutMs,
        maxRetries: 0,
        ...(opts.fetch ? { fetch: opts.fetch as unknown as typeof fetch } : {}),
      }),
    })));
  return async <T>(fn: (client: OpenAI) => Promise<T>): Promise<T> => {
    const { client: c, mod } = await open();
    try {
      return await fn(c);
    } catch (err) {
      throw upstreamError(mod, err, timeoutMs);
    }
  };
}

/** Maps the SDK's errors onto UpstreamError: the status, a secret-free message, the upstream's Retry-After. */
function upstreamError(
  { APIConnectionError, APIConnectionTimeoutError, APIError }: Sdk,
  err: unknown,
  timeoutMs: number,
): unknown {
  if (err instanceof APIConnectionTimeoutError)
    return new UpstreamError(504, `upstream timed out after ${timeoutMs} ms`);
  if (err instanceof APIError && typeof err.status === 'number') {
    const body = err.error as { code?: unknown; message?: unknown } | undefined;
    const detail =
      body && typeof body.message === 'string'
        ? `${typeof body.code === 'string' ? `${body.code}: ` : ''}${body.message}`
        : err.message.slice(0, 200);
    return new UpstreamError(
      err.status,
      `upstream answered ${err.status}: ${detail}`,
      parseRetryAfter(err.headers?.get('retry-after')),
    );
  }
  if (err instanceof APIConnectionError) {
    const cause = (err.cause as Error | undefined)?.message ?? err.message;
    return new UpstreamError(502, `upstream unreachable: ${cause}`);
  }
  return err;
}

/** GA `client_secrets` response (the fields we rely on). */
function parseClientSecret(body: unknown): ClientSecret {
  const b = body as { value?: unknown; expires_at?: unknown; session?: unknown } | undefined;
  if (!b || typeof b.value !== 'string' || typeof b.expires_at !== 'number') {
    throw new UpstreamError(502, 'upstream client_secrets answer lacks value/expires_at');
  }
  return { value: b.value, expiresAt: b.expires_at, session: b.session };
}
