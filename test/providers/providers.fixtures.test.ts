import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { describe, expect, it } from 'vitest';
import { createProvider, type ProviderConfig, type RealtimeProvider } from '../../shared/providers/index';
import { UnsupportedByProvider } from '../../shared/providers/types';
import { FIXTURE_SESSION, recordingFetch, recordingWebSocket, type RecordedRequest } from './record';

interface Fixture {
  description: string;
  config: ProviderConfig;
  connectUrls: { webrtcUrl: string; websocketUrl: string } | 'unsupported';
  requests: RecordedRequest[];
}

const load = (name: string): Fixture =>
  JSON.parse(readFileSync(resolve(import.meta.dirname, 'fixtures', `${name}.json`), 'utf8')) as Fixture;

/** A credential that hands out numbered tokens and counts how often it was asked. */
function countingCredential(lifetimeMs: number | ((call: number) => number)) {
  const state = { calls: 0 };
  const credential: TokenCredential = {
    async getToken(): Promise<AccessToken> {
      state.calls += 1;
      return {
        token: `entra-token-${state.calls}`,
        expiresOnTimestamp: Date.now() + (typeof lifetimeMs === 'number' ? lifetimeMs : lifetimeMs(state.calls)),
      };
    },
  };
  return { credential, state };
}

/** Runs the same operations against every provider; unsupported ones are recorded as refusals. */
async function exercise(provider: RealtimeProvider, log: RecordedRequest[], setOp: (op: string) => void) {
  const refusals: string[] = [];
  const step = async (op: string, fn: () => Promise<unknown>) => {
    setOp(op);
    try {
      await fn();
    } catch (err) {
      if (err instanceof UnsupportedByProvider) refusals.push(`${op}: ${err.feature}`);
      else throw err;
    }
  };
  await step('mintClientSecret', () => provider.mintClientSecret(FIXTURE_SESSION, 45));
  await step('acceptCall', () => provider.acceptCall('rtc_abc 1', FIXTURE_SESSION));
  await step('rejectCall', () => provider.rejectCall('rtc_def', 486));
  await step('referCall', () => provider.referCall('rtc_mno', 'tel:+14155550123'));
  await step('hangupCall', () => provider.hangupCall('rtc_ghi'));
  await step('openSideband', () => provider.openSideband('rtc_jkl'));
  await step('openDirect', () => provider.openDirect('gpt-realtime'));
  return { requests: log, refusals };
}

const cases: { fixture: string; credential?: () => ReturnType<typeof countingCredential> }[] = [
  { fixture: 'emulator' },
  { fixture: 'openai' },
  { fixture: 'azure-openai-key' },
  { fixture: 'azure-openai-keyless', credential: () => countingCredential(3_600_000) },
  { fixture: 'voice-live' },
];

describe('providers make exactly the recorded requests', () => {
  for (const c of cases) {
    it(`${c.fixture}: URLs, headers, auth and bodies match test/providers/fixtures/${c.fixture}.json`, async () => {
      const fx = load(c.fixture);
      const log: RecordedRequest[] = [];
      let op = '';
      const cred = c.credential?.();
      const provider = createProvider(fx.config, {
        fetch: recordingFetch(log, () => op),
        webSocket: recordingWebSocket(log, () => op),
        credential: cred?.credential,
      });
      expect(provider.name).toBe(fx.config.REALTIME_PROVIDER);
      const { refusals } = await exercise(provider, log, (o) => (op = o));
      expect(log).toEqual(fx.requests);
      if (fx.connectUrls === 'unsupported') {
        expect(() => provider.connectUrls('gpt-realtime')).toThrow(UnsupportedByProvider);
        expect(refusals.length).toBeGreaterThan(0);
      } else {
        expect(provider.connectUrls('gpt-realtime')).toEqual(fx.connectUrls);
        expect(refusals).toEqual([]);
      }
      // Keyless: six authenticated requests, one token (cached by the bearer token provider).
      if (cred) expect(cred.state.calls).toBe(1);
    });
  }

  it('voice-live refuses browser tokens, calls and sideband with the provider and feature named', async () => {
    const provider = createProvider({ ...load('voice-live').config });
    const err = await provider.mintClientSecret(FIXTURE_SESSION, 30).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedByProvider);
    expect((err as UnsupportedByProvider).provider).toBe('voice-live');
    expect((err as Error).message).toMatch(/client secrets .* not supported by the voice-live provider/);
    expect(provider.capabilities).toEqual({ webrtc: false, sip: false, clientSecrets: false, sideband: false });
  });

  it('keyless Azure refreshes a token before it expires (in the background, still-valid token used meanwhile)', async () => {
    const { credential, state } = countingCredential((n) => (n === 1 ? 5_000 : 3_600_000)); // first one inside the refresh window
    const log: RecordedRequest[] = [];
    const provider = createProvider(load('azure-openai-keyless').config, {
      fetch: recordingFetch(log, () => 'mint'),
      credential,
    });
    await provider.mintClientSecret(FIXTURE_SESSION, 30);
    await provider.mintClientSecret(FIXTURE_SESSION, 30);
    await new Promise((r) => setTimeout(r, 20));
    await provider.mintClientSecret(FIXTURE_SESSION, 30);
    expect(state.calls).toBe(2);
    expect(log.map((r) => r.headers.authorization)).toEqual([
      'Bearer entra-token-1',
      'Bearer entra-token-1',
      'Bearer entra-token-2',
    ]);
  });

  it('openai and emulator refuse to start without an API key, naming the setting', () => {
    expect(() => createProvider({ ...load('openai').config, REALTIME_API_KEY: undefined })).toThrow(/REALTIME_API_KEY/);
    expect(() => createProvider({ ...load('emulator').config, REALTIME_API_KEY: undefined })).toThrow(
      /REALTIME_API_KEY/,
    );
  });
});
