import type { TableEntity } from '@azure/data-tables';
import { createDeps, type AppDeps } from '../../functions/deps';
import { buildRoutes } from '../../functions/routes';
import { startRunner, type Runner } from '../../emulators/functions-host/runner';
import { startAzurite, type Azurite } from '../../dev/azurite';
import { freePort } from '../../dev/ports';
import { loadFunctionsConfig, type FunctionsConfig } from '../../shared/config/index';
import type { LifecycleOperation } from '../../shared/lifecycle/operations';
import type { RealtimeProvider } from '../../shared/providers/types';
import { ensureTables, tableClient, TABLES } from '../../shared/storage/tables';
import { seedAll } from '../../shared/tools/seed-all';

export const WEBHOOK_SECRET = `whsec_${Buffer.from('integration-test-webhook-secret!').toString('base64')}`;

export interface Harness {
  /** `http://127.0.0.1:<port>/api` */
  api: string;
  config: FunctionsConfig;
  deps: AppDeps;
  /** Every lifecycle signal the handlers sent, in order. */
  signals: { sessionId: string; op: LifecycleOperation }[];
  rows(table: string): Promise<TableEntity<Record<string, unknown>>[]>;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Replaces the configured provider (fault injection); the configured one is passed in. */
  provider?: (configured: RealtimeProvider) => RealtimeProvider;
  /** Azurite to share between suites in one file; started (and stopped) here when absent. */
  azurite?: Azurite;
  /** Runner port, when something (the emulator's webhook target) must know it before the runner starts. */
  port?: number;
  /** Record lifecycle signals instead of applying them (default); false keeps the configured lifecycle. */
  recordSignals?: boolean;
}

/**
 * The Function app's routes on the local runner against a real Azurite, with agents and tool data seeded and
 * lifecycle signals recorded. The realtime endpoint is whatever env says (the emulator in these tests).
 */
export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const azurite = opts.azurite ?? (await startAzurite());
  const port = opts.port ?? (await freePort());
  const config = loadFunctionsConfig({
    AUTH_MODE: 'dev',
    REALTIME_PROVIDER: 'emulator',
    REALTIME_ENDPOINT: 'http://127.0.0.1:9',
    REALTIME_API_KEY: 'emulator-dev-key',
    WORKER_URL: 'http://127.0.0.1:9',
    WORKER_AUTH_SECRET: 'integration-worker-secret-0123456789',
    WEBHOOK_SECRETS: WEBHOOK_SECRET,
    LIFECYCLE_MODE: 'local',
    MCP_BUILTIN_URL: `http://127.0.0.1:${port}/api/mcp`,
    ...opts.env,
    STORAGE_CONNECTION_STRING: azurite.connectionString,
  });
  await ensureTables(config);
  await seedAll(config);
  const deps = await createDeps(config);
  if (opts.provider) deps.provider = opts.provider(deps.provider);
  const signals: Harness['signals'] = [];
  if (opts.recordSignals !== false) {
    deps.lifecycle = {
      ...deps.lifecycle,
      port: () => ({
        async signal(sessionId, op) {
          signals.push({ sessionId, op });
        },
      }),
    };
  }
  const runner: Runner = await startRunner({ routes: buildRoutes(deps), port });
  return {
    api: `${runner.url}/api`,
    config,
    deps,
    signals,
    async rows(table) {
      const out: TableEntity<Record<string, unknown>>[] = [];
      for await (const e of tableClient(config, table).listEntities<Record<string, unknown>>())
        out.push(e as TableEntity<Record<string, unknown>>);
      return out;
    },
    async stop() {
      await runner.close();
      await (deps.toolGateway as { close?: () => Promise<void> }).close?.();
      // The local lifecycle (LIFECYCLE_MODE=local) runs timers; stop it with the app.
      await deps.lifecycle.stop();
      if (!opts.azurite) await azurite.stop();
    },
  };
}

export { TABLES };

export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
