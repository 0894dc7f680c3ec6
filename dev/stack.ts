import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { loadFunctionsConfig } from '../shared/config/index';
import { ensureTables } from '../shared/storage/tables';
import { seedAll } from '../shared/tools/seed-all';
import { createDeps } from '../functions/deps';
import { buildRoutes } from '../functions/routes';
import { startRunner } from '../emulators/functions-host/runner';
import { startWebPubSubEmulator } from '../emulators/webpubsub/server';
import { parseProfile, startRealtimeEmulator } from '../emulators/realtime/index';
import { buildWeb, startWebServer } from '../web/src/server/static';
import { startWorkerFleet, type WorkerFleet } from './worker-fleet';
import { azuriteConnectionString, startAzurite, type Azurite } from './azurite';
import { assertPortFree, freePort } from './ports';
import { startTableProxy, type TableProxy } from './table-proxy';
import { logFailure } from '../shared/telemetry/log';

/**
 * The whole local stack in one process tree. `npm start` uses fixed, configurable ports; tests call it with
 * `ports: 'free'` so no test touches a fixed port.
 */
export interface StackOptions {
  ports?: 'fixed' | 'free';
  /** Persist Azurite data here (npm start); in-memory when unset. */
  dataDir?: string;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Put a counting proxy (table-proxy.ts) in front of Azurite: every storage transaction is recorded. */
  countStorage?: boolean;
}

export interface Service {
  name: string;
  url: string;
  stop(): Promise<void>;
}

export interface Stack {
  services: Service[];
  url(name: string): string;
  /** The environment the Function app and worker were started with (connection strings included). */
  env: Record<string, string>;
  /** The worker replicas behind ports.worker (tests kill one to watch the call move). */
  workers?: WorkerFleet;
  /** Azurite's process (chaos tests pause it) and, with `countStorage`, the counting proxy in front of it. */
  storage?: { azurite: Azurite; proxy?: TableProxy };
  stop(): Promise<void>;
}

/** Port settings and their defaults for `npm start`. */
export const PORT_SETTINGS = {
  azurite: { setting: 'AZURITE_TABLE_PORT', default: 10002 },
  functions: { setting: 'FUNCTIONS_PORT', default: 7071 },
  emulator: { setting: 'REALTIME_EMULATOR_PORT', default: 7080 },
  webpubsub: { setting: 'WEBPUBSUB_EMULATOR_PORT', default: 7090 },
  worker: { setting: 'WORKER_PORT', default: 8080 },
  web: { setting: 'WEB_PORT', default: 5173 },
} as const;
export type ServiceKey = keyof typeof PORT_SETTINGS;

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const services: Service[] = [];
  const port = async (key: ServiceKey) => {
    if (opts.ports === 'free') return freePort();
    const { setting, default: def } = PORT_SETTINGS[key];
    const raw = env[setting];
    const p = raw ? Number(raw) : def;
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`${setting} must be a port number, got "${raw}"`);
    await assertPortFree(key, p, setting);
    return p;
  };

  const stopAll = async () => {
    for (const s of [...services].reverse()) await s.stop().catch(logFailure(log, `stopping ${s.name}`));
  };

  // Every port is known before anything starts, so each service's settings can name the others.
  const ports = {} as Record<ServiceKey, number>;
  for (const key of Object.keys(PORT_SETTINGS) as ServiceKey[]) ports[key] = await port(key);
  const urlOf = (key: ServiceKey) => `http://127.0.0.1:${ports[key]}`;
  const functionsPort = ports.functions;
  const functionsUrl = urlOf('functions');
  const appEnv: Record<string, string> = {
    AUTH_MODE: 'dev',
    REALTIME_PROVIDER: 'emulator',
    REALTIME_ENDPOINT: urlOf('emulator'),
    REALTIME_API_KEY: 'emulator-dev-key',
    WORKER_URL: urlOf('worker'),
    WORKER_AUTH_SECRET: randomBytes(24).toString('base64url'),
    WEBHOOK_SECRETS: `whsec_${randomBytes(24).toString('base64')}`,
    LIFECYCLE_MODE: 'local',
    CORS_ALLOWED_ORIGINS: urlOf('web'),
    ...definedOnly(env),
    STORAGE_CONNECTION_STRING: 'pending',
    FUNCTIONS_BASE_URL: functionsUrl,
    MCP_BUILTIN_URL: `${functionsUrl}/api/mcp`,
  };
  // REALTIME_EMULATOR_PROFILE runs the apps' real provider for that service against the emulator in that
  // profile; without it the `emulator` provider speaks Azure OpenAI's paths and the emulator enforces them.
  const profile = env.REALTIME_EMULATOR_PROFILE ? parseProfile(env.REALTIME_EMULATOR_PROFILE) : undefined;
  if (profile) {
    appEnv.REALTIME_PROVIDER = profile === 'azure-openai' ? 'emulator' : profile;
    appEnv.REALTIME_ENDPOINT = urlOf('emulator');
    appEnv.REALTIME_API_KEY = env.REALTIME_API_KEY ?? 'emulator-dev-key';
    // The Live API takes Live models only; the Realtime default would be refused.
    if (profile === 'live') appEnv.REALTIME_MODEL = env.REALTIME_MODEL ?? 'gpt-live-1';
  }
  const emulated = appEnv.REALTIME_PROVIDER === 'emulator' || profile !== undefined;
  // Validate the settings before anything starts: a bad setting is one clear error, not a half-up stack.
  loadFunctionsConfig(appEnv);

  // Started early (below) and registered in `services` later; stopped here if start-up fails in between.
  let workers: WorkerFleet | undefined;
  try {
    const azurite = await startAzurite({ port: ports.azurite, location: opts.dataDir });
    services.push({
      name: 'azurite (tables)',
      url: `http://127.0.0.1:${azurite.port}/devstoreaccount1`,
      stop: azurite.stop,
    });
    appEnv.STORAGE_CONNECTION_STRING = azurite.connectionString;
    let proxy: TableProxy | undefined;
    if (opts.countStorage) {
      proxy = await startTableProxy({ port: azurite.port });
      services.push({ name: 'table proxy (counts storage calls)', url: proxy.url, stop: proxy.close });
      appEnv.STORAGE_CONNECTION_STRING = azuriteConnectionString(proxy.port);
    }

    // realtime emulator: only when the stack talks to it, not to a real service
    if (emulated) {
      const secret = (appEnv.WEBHOOK_SECRETS ?? '').split(',')[0]!.trim();
      const rt = await startRealtimeEmulator({
        profile: profile ?? 'azure-openai',
        port: ports.emulator,
        apiKeys: [appEnv.REALTIME_API_KEY ?? 'emulator-dev-key'],
        webhook: secret ? { url: `${functionsUrl}/api/webhooks/realtime`, secret } : undefined,
        // `both` (live profile): a ringing call is offered on the Realtime and the Live API, as the services may.
        sipSurfaces: env.REALTIME_EMULATOR_SIP_SURFACES === 'both' ? 'both' : undefined,
        log,
      });
      services.push({ name: 'realtime emulator', url: rt.url, stop: rt.stop });
    }
    // web pubsub emulator starts here, on ports.webpubsub
    if (!appEnv.WEBPUBSUB_CONNECTION_STRING && !appEnv.WEBPUBSUB_ENDPOINT) {
      const wps = await startWebPubSubEmulator({ port: ports.webpubsub, log });
      services.push({ name: 'web pubsub emulator', url: wps.url, stop: wps.close });
      appEnv.WEBPUBSUB_CONNECTION_STRING = wps.connectionString;
    }

    // worker: WORKER_REPLICAS supervised child processes behind ports.worker, restarted when they die.
    // Spawned now so their start-up overlaps the rest; registered as a service after the runner (stop order).
    // Tests (free ports) get one replica unless they ask for more; `npm start` gets two.
    workers = await startWorkerFleet({
      port: ports.worker,
      replicas: Math.max(1, Number(appEnv.WORKER_REPLICAS ?? (opts.ports === 'free' ? 1 : 2)) || 1),
      env: { ...appEnv, WORKER_URL: urlOf('worker') },
      log,
    });

    const config = loadFunctionsConfig(appEnv);
    await ensureTables(config);
    // Agents and the MCP tools' data (orders, knowledge base); a broken agents/*.json stops the stack here.
    await seedAll(config);
    const deps = await createDeps(config);
    const runner = await startRunner({ routes: buildRoutes(deps), port: functionsPort, log });
    services.push({ name: 'functions (local runner)', url: `${runner.url}/api`, stop: runner.close });

    const fleet = workers;
    services.push({ name: 'worker', url: fleet.url, stop: fleet.stop });
    workers = undefined; // owned by `services` from here on
    await fleet.ready();
    // web page is served here, on ports.web
    await buildWeb();
    const web = await startWebServer({ port: ports.web, apiBaseUrl: `${runner.url}/api`, authMode: 'dev' });
    services.push({ name: 'web page', url: web.url, stop: web.close });

    return {
      services,
      env: appEnv,
      workers: fleet,
      storage: { azurite, proxy },
      url: (name) => {
        const s = services.find((x) => x.name.startsWith(name));
        if (!s) throw new Error(`no service ${name}`);
        return s.url;
      },
      stop: stopAll,
    };
  } catch (err) {
    await workers?.stop().catch(logFailure(log, 'stopping the worker fleet'));
    await stopAll();
    throw err;
  }
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export const DEFAULT_DATA_DIR = resolve(process.cwd(), '.local/azurite');
