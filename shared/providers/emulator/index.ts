import { azureOpenAIProvider } from '../azure-openai/index';
import { ProviderConfigError, type ProviderConfig, type ProviderOptions } from '../options';
import type { RealtimeProvider } from '../types';

/**
 * The local realtime emulator (emulators/realtime), spoken to exactly as Azure OpenAI with an API key: the
 * same provider code, so the local stack exercises the production path, and the emulator's default
 * (azure-openai) profile refuses whatever Azure would.
 */
export function emulatorProvider(config: ProviderConfig, opts: ProviderOptions = {}): RealtimeProvider {
  if (!config.REALTIME_API_KEY) {
    throw new ProviderConfigError('REALTIME_API_KEY', 'the emulator provider needs the emulator API key');
  }
  return azureOpenAIProvider(config, opts, 'emulator');
}
