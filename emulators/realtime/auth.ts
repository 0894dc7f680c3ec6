import type { RealtimeSessionCreateRequest } from 'openai/resources/realtime/realtime';
import { entraTokenProblem, type Credential, type EmulatorProfile } from './profile';
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
   * Checks a credential the way the profile's service does: an API key, an Entra token where the service
   * takes one (Azure, Voice Live), an `ek_` key only where `allowEphemeral` (calls, direct sessions) and
   * never on Voice Live, which has no client secrets.
   */
  authenticate(
    credential: Credential | undefined,
    opts: { allowEphemeral: boolean; profile?: EmulatorProfile },
  ): AuthResult {
    const profile = opts.profile ?? 'azure-openai';
    const refuse = (code: string, message: string): AuthResult => ({ ok: false, status: 401, code, message });
    if (!credential)
      return refuse(
        'missing_api_key',
        profile === 'openai'
          ? "You didn't provide an API key. Send it as Authorization: Bearer <key>."
          : 'No credentials: send an api-key header or an Entra token as Authorization: Bearer <token>.',
      );
    const value = credential.value;
    if (value.startsWith('ek_'))
      return profile === 'voice-live'
        ? refuse('invalid_api_key', 'Voice Live has no client secrets; ek_ keys are not accepted.')
        : this.ephemeralKey(value, opts.allowEphemeral);
    // Azure's v1 data plane takes a key as a bearer too (the plain OpenAI client sends it that way).
    if (this.apiKeys.includes(value)) return { ok: true, principal: { kind: 'api-key' } };
    if (profile !== 'openai' && credential.via === 'bearer') {
      const problem = entraTokenProblem(profile, value, this.now());
      if (problem) return refuse('invalid_token', `Access denied: ${problem}.`);
      return { ok: true, principal: { kind: 'api-key' } };
    }
    return refuse('invalid_api_key', 'Incorrect API key provided.');
  }

  private ephemeralKey(value: string, allowEphemeral: boolean): AuthResult {
    const key = this.ephemeral.get(value);
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
    if (!allowEphemeral) {
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

  /** Forgets keys an hour after expiry; until then they are refused as expired, not as unknown. */
  private sweep(): void {
    const cutoff = this.now() - 3_600_000;
    for (const [k, v] of this.ephemeral) if (v.expiresAt * 1000 <= cutoff) this.ephemeral.delete(k);
  }
}
