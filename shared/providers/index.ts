import type { ProviderName } from '../config/index';
import { azureOpenAIProvider } from './azure-openai/index';
import { emulatorProvider } from './emulator/index';
import { liveProvider } from './live/index';
import { openAIProvider } from './openai/index';
import type { ProviderConfig, ProviderOptions } from './options';
import type { RealtimeProvider } from './types';
import { voiceLiveProvider } from './voice-live/index';

export type { ProviderConfig, ProviderOptions } from './options';
export { ProviderConfigError } from './options';
export * from './types';

const factories: Record<ProviderName, (c: ProviderConfig, o: ProviderOptions) => RealtimeProvider> = {
  emulator: emulatorProvider,
  'azure-openai': azureOpenAIProvider,
  'voice-live': voiceLiveProvider,
  openai: openAIProvider,
  live: liveProvider,
};

/** The provider named by REALTIME_PROVIDER; adding one means a folder here and a line in this table. */
export function createProvider(config: ProviderConfig, opts: ProviderOptions = {}): RealtimeProvider {
  return factories[config.REALTIME_PROVIDER](config, opts);
}
