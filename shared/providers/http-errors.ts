import { HttpError } from '../http/errors';
import { UnsupportedByProvider, UpstreamError } from './types';

/**
 * Maps provider failures to the API's JSON errors. Upstream throttling becomes our 503 with the upstream's
 * Retry-After (the caller did nothing wrong; retrying later helps); other upstream failures are 502/504.
 */
export function providerHttpError(err: unknown): unknown {
  if (err instanceof UnsupportedByProvider) {
    return new HttpError(501, 'unsupported_by_provider', err.message, { provider: err.provider, feature: err.feature });
  }
  if (err instanceof UpstreamError) {
    const retry = err.retryAfterSeconds ?? (err.status === 429 ? 1 : undefined);
    const headers = retry === undefined ? undefined : { 'retry-after': String(retry) };
    if (err.status === 429)
      return new HttpError(503, 'upstream_throttled', 'the realtime service is busy; retry later', undefined, headers);
    if (err.status === 504) return new HttpError(504, 'upstream_timeout', err.message);
    if (err.status >= 500) return new HttpError(502, 'upstream_unavailable', err.message, undefined, headers);
    return new HttpError(502, 'upstream_rejected', err.message, { upstreamStatus: err.status });
  }
  return err;
}

/** Runs a provider call and rethrows its failure as the matching HttpError. */
export async function viaProvider<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw providerHttpError(err);
  }
}
