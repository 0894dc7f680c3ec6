import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HttpError } from '../../shared/http/errors';
import { providerHttpError } from '../../shared/providers/http-errors';
import {
  createProvider,
  UnsupportedByProvider,
  UpstreamError,
  type ProviderConfig,
} from '../../shared/providers/index';
import { parseRetryAfter, type FetchLike } from '../../shared/providers/realtime-client';
import { FIXTURE_SESSION } from './record';

const config = (endpoint = 'http://127.0.0.1:9'): ProviderConfig => ({
  REALTIME_PROVIDER: 'emulator',
  REALTIME_ENDPOINT: endpoint,
  REALTIME_API_KEY: 'k',
  REALTIME_MODEL: 'gpt-realtime',
  REALTIME_API_VERSION: '2025-10-01',
});
const answering =
  (status: number, body = '', headers: Record<string, string> = {}): FetchLike =>
  async () =>
    new Response(body || null, { status, headers });
const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('upstream failures', () => {
  it('maps 429 with Retry-After to UpstreamError carrying the delay, and to our 503 with the same header', async () => {
    const p = createProvider(config(), {
      fetch: answering(429, '{"error":{"code":"rate_limit","message":"slow down"}}', { 'retry-after': '7' }),
    });
    const err = (await failure(p.mintClientSecret(FIXTURE_SESSION, 30))) as UpstreamError;
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err.status).toBe(429);
    expect(err.retryAfterSeconds).toBe(7);
    expect(err.message).toContain('rate_limit: slow down');
    const http = providerHttpError(err) as HttpError;
    expect(http.status).toBe(503);
    expect(http.code).toBe('upstream_throttled');
    expect(http.headers).toEqual({ 'retry-after': '7' });
  });

  it('maps 5xx to UpstreamError → 502, and a 4xx to 502 upstream_rejected naming the upstream status', async () => {
    const p = createProvider(config(), { fetch: answering(503, 'busy') });
    const err = (await failure(p.acceptCall('rtc_1', FIXTURE_SESSION))) as UpstreamError;
    expect(err.status).toBe(503);
    expect((providerHttpError(err) as HttpError).code).toBe('upstream_unavailable');
    const bad = (await failure(
      createProvider(config(), { fetch: answering(400, '{"error":{"message":"bad"}}') }).hangupCall('x'),
    )) as UpstreamError;
    expect(providerHttpError(bad)).toMatchObject({
      status: 502,
      code: 'upstream_rejected',
      details: { upstreamStatus: 400 },
    });
  });

  it('maps an unreachable upstream to 502 and a slow one to 504', async () => {
    const down = createProvider(config('http://127.0.0.1:1'), { timeoutMs: 2000 });
    expect(await failure(down.mintClientSecret(FIXTURE_SESSION, 30))).toMatchObject({ status: 502 });
    const slow: FetchLike = (_u, init) =>
      new Promise((_r, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    const p = createProvider(config(), { fetch: slow, timeoutMs: 50 });
    expect(await failure(p.mintClientSecret(FIXTURE_SESSION, 30))).toMatchObject({ status: 504 });
  });

  it('refuses a client_secrets answer without value/expires_at', async () => {
    const p = createProvider(config(), { fetch: answering(200, '{"value":42}') });
    expect(await failure(p.mintClientSecret(FIXTURE_SESSION, 30))).toMatchObject({ status: 502 });
  });

  it('maps UnsupportedByProvider to 501 naming provider and feature', () => {
    const http = providerHttpError(new UnsupportedByProvider('voice-live', 'SIP calls (accept)')) as HttpError;
    expect(http).toMatchObject({
      status: 501,
      code: 'unsupported_by_provider',
      details: { provider: 'voice-live', feature: 'SIP calls (accept)' },
    });
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('12')).toBe(12);
    expect(parseRetryAfter(new Date(Date.now() + 30_000).toUTCString())).toBeGreaterThanOrEqual(29);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  describe('WebSocket upgrade refused', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      server = createServer();
      server.on('upgrade', (_req, socket) => {
        socket.end(
          'HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
        );
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it('rejects openSideband with UpstreamError(429, retry 3)', async () => {
      const err = (await failure(createProvider(config(url)).openSideband('rtc_1'))) as UpstreamError;
      expect(err).toBeInstanceOf(UpstreamError);
      expect(err.status).toBe(429);
      expect(err.retryAfterSeconds).toBe(3);
    });
  });
});
