import type { TokenCredential } from '@azure/identity';
import type { CommonConfig } from '../config/index';
import type { RealtimeClientOptions } from './realtime-client';

/** The settings a provider reads. */
export type ProviderConfig = Pick<
  CommonConfig,
  'REALTIME_PROVIDER' | 'REALTIME_ENDPOINT' | 'REALTIME_API_KEY' | 'REALTIME_MODEL' | 'REALTIME_API_VERSION'
> &
  /** The Live provider's delegation model. */
  Partial<Pick<CommonConfig, 'TEXT_MODEL'>>;

export interface ProviderOptions extends RealtimeClientOptions {
  /** Overrides DefaultAzureCredential for keyless Azure auth (tests, or a specific managed identity). */
  credential?: TokenCredential;
}

/** A provider that cannot work with the given settings: names the setting. */
export class ProviderConfigError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`${setting}: ${problem}`);
    this.name = 'ProviderConfigError';
  }
}
