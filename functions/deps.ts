import type { FunctionsConfig } from '../shared/config/index';

/**
 * Everything the handlers need, built once per process from configuration. Later features add their stores
 * and clients here so that handlers stay thin and tests can build the same object against Azurite.
 */
export interface AppDeps {
  config: FunctionsConfig;
}

export async function createDeps(config: FunctionsConfig): Promise<AppDeps> {
  return { config };
}
