import type { HttpHandler } from '@azure/functions';
import { probeTable, type StorageConfig } from '../../shared/storage/tables';
import { ok } from '../edge';

export interface HealthDeps {
  config: StorageConfig & { REALTIME_PROVIDER: string; REALTIME_ENDPOINT: string };
}

/** GET /api/health — reports each dependency; 503 when one the app cannot work without is down. */
export const healthHandler =
  ({ config }: HealthDeps): HttpHandler =>
  async () => {
    const started = Date.now();
    let storage: { ok: boolean; ms: number; error?: string };
    try {
      await withTimeout(probeTable(config), 3000);
      storage = { ok: true, ms: Date.now() - started };
    } catch (err) {
      storage = { ok: false, ms: Date.now() - started, error: describe(err) };
    }
    const provider = { ok: true, name: config.REALTIME_PROVIDER, endpoint: new URL(config.REALTIME_ENDPOINT).origin };
    const healthy = storage.ok && provider.ok;
    return ok({ status: healthy ? 'ok' : 'degraded', checks: { storage, provider } }, healthy ? 200 : 503);
  };

function describe(err: unknown): string {
  const e = err as { code?: string; statusCode?: number; message?: string };
  return e.code ?? (e.statusCode ? `HTTP ${e.statusCode}` : (e.message ?? 'unreachable')).slice(0, 200);
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(Object.assign(new Error('timeout'), { code: 'timeout' })), ms);
    p.then(
      (v) => (clearTimeout(t), resolve(v)),
      (e) => (clearTimeout(t), reject(e)),
    );
  });
}
