import type { IncomingHttpHeaders } from 'node:http';
import type { RealtimeSessionCreateRequest } from 'openai/resources/realtime/realtime';
import { newId } from './protocol';

/** Who made a request: a long-lived API key (server side) or an ephemeral key minted by client_secrets. */
export type Principal =
  { kind: 'api-key' } | { kind: 'ephemeral'; key: string; session: RealtimeSessionCreateRequest; expiresAt: number };

export interface EphemeralKey {
  value: string;
  expiresAt: number;
  session: RealtimeSessionCreateRequest;
}

export type AuthResult = { ok: true; principal: Principal } | { ok: false; status: 401; code: string; message: string };

/**
 * API keys and ephemeral keys. Ephemeral keys are kept in memory only; an expired one is refused with 401
 * `expired_api_key`.
 */
export class KeyStore {
  private readonly ephemeral = new Map<string, EphemeralKey>();

  constructor(
    private readonly apiKeys: string[],
    private readonly now: () => number = Date.now,
  ) {}

  mint(session: RealtimeSessionCreateRequest, ttlSeconds: number): EphemeralKey {
    this.sweep();
    const key: EphemeralKey = {
      value: newId('ek', 32),
      expiresAt: Math.floor(this.now() / 1000) + ttlSeconds,
      session,
    };
    this.ephemeral.set(key.value, key);
    return key;
  }

  /**
   * Reads `api-key`, `Authorization: Bearer`, the `api-key` query parameter (Azure browsers) or the
   * `openai-insecure-api-key.<key>` WebSocket subprotocol (browsers cannot set WS headers).
   */
  static credential(headers: IncomingHttpHeaders, url?: URL): string | undefined {
    const apiKey = headers['api-key'];
    if (typeof apiKey === 'string' && apiKey) return apiKey;
    const auth = headers.authorization;
    if (typeof auth === 'string') {
      const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
      if (m) return m[1];
    }
    const fromQuery = url?.searchParams.get('api-key');
    if (fromQuery) return fromQuery;
    const protocols = headers['sec-websocket-protocol'];
    if (typeof protocols === 'string') {
      for (const p of protocols.split(',').map((s) => s.trim())) {
        if (p.startsWith('openai-insecure-api-key.')) return p.slice('openai-insecure-api-key.'.length);
      }
    }
    return undefined;
  }

  authenticate(credential: string | undefined, opts: { allowEphemeral: boolean }): AuthResult {
    if (!credential)
      return {
        ok: false,
        status: 401,
        code: 'missing_api_key',
        message: 'No API key provided: send an api-key header or Authorization: Bearer <key>.',
      };
    if (this.apiKeys.includes(credential)) return { ok: true, principal: { kind: 'api-key' } };
    if (credential.startsWith('ek_')) {
      const key = this.ephemeral.get(credential);
      if (!key)
        return { ok: false, status: 401, code: 'invalid_api_key', message: 'Incorrect or unknown ephemeral key.' };
      if (key.expiresAt * 1000 <= this.now()) {
        return {
          ok: false,
          status: 401,
          code: 'expired_api_key',
          message: 'The ephemeral key has expired. Mint a new one from /realtime/client_secrets.',
        };
      }
      if (!opts.allowEphemeral) {
        return {
          ok: false,
          status: 401,
          code: 'invalid_api_key',
          message: 'Ephemeral keys may only open realtime calls or sessions; use an API key here.',
        };
      }
      return {
        ok: true,
        principal: { kind: 'ephemeral', key: key.value, session: key.session, expiresAt: key.expiresAt },
      };
    }
    return { ok: false, status: 401, code: 'invalid_api_key', message: 'Incorrect API key provided.' };
  }

  /** Forgets keys an hour after expiry; until then they are refused as expired, not as unknown. */
  private sweep(): void {
    const cutoff = this.now() - 3_600_000;
    for (const [k, v] of this.ephemeral) if (v.expiresAt * 1000 <= cutoff) this.ephemeral.delete(k);
  }
}
