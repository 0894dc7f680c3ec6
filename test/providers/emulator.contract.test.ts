import { startRealtimeEmulator } from '../../emulators/realtime/index';
import { createProvider, type ProviderConfig } from '../../shared/providers/index';
import { providerContract } from './contract';

/** The emulator is the one realtime service reachable from CI; every other provider shares its code path. */
providerContract('emulator', async () => {
  const emulator = await startRealtimeEmulator({ port: 0, apiKeys: ['contract-key'], useEspeak: false });
  const config = (key: string): ProviderConfig => ({
    REALTIME_PROVIDER: 'emulator',
    REALTIME_ENDPOINT: emulator.url,
    REALTIME_API_KEY: key,
    REALTIME_MODEL: 'gpt-realtime',
    REALTIME_API_VERSION: '2025-10-01',
  });
  return {
    provider: createProvider(config('contract-key')),
    withWrongKey: createProvider(config('not-the-key')),
    ringSipCall: async () =>
      (await emulator.simulateIncomingSipCall({ from: '+14155550123', to: '+18005550100' })).callId,
    throttleNextRest: () => emulator.faults.set({ rest: { status: 429, times: 1, retryAfterSeconds: 4 } }),
    stop: () => emulator.stop(),
  };
});
