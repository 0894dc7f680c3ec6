import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import functions from '@azure/functions';
import { startClientApi, type ClientApi } from './client-api';
import { loadApp, type Registration } from './functions-core';
import { TaskHub, type Faults } from './taskhub';

export { TaskHub } from './taskhub';
export type { Registration } from './functions-core';

const { HttpRequest, InvocationContext } = functions;

/**
 * Builds the Function app bundle the way `npm run build` does (scripts/bundle.mjs) into a temporary directory,
 * so that tests and benches load exactly what would be deployed, not the TypeScript sources.
 */
export function buildFunctionsBundle(cwd = process.cwd()): string {
  const out = mkdtempSync(join(tmpdir(), 'fn-bundle-'));
  execFileSync(process.execPath, ['scripts/bundle.mjs'], {
    cwd,
    env: { ...process.env, BUNDLE_ONLY: 'functions', BUNDLE_OUTDIR: out },
    stdio: 'pipe',
  });
  // The app's package.json says "type": "module"; the copy needs the same to load as the host loads it.
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  return join(out, 'index.js');
}

export interface SimulatedHost {
  hub: TaskHub;
  api: ClientApi;
  registrations: Registration[];
  /** Invokes an HTTP function as the worker would, with its extra inputs bound (the durable client). */
  http(
    name: string,
    init: {
      method: string;
      path: string;
      body?: unknown;
      headers?: Record<string, string>;
      params?: Record<string, string>;
    },
  ): Promise<{ status: number; body: unknown }>;
  close(): Promise<void>;
}

/**
 * Loads a built app with a stub `@azure/functions-core` (the registrations are what the host indexes) and
 * runs its Durable functions on a simulated task hub whose client API is served over HTTP.
 */
export async function startSimulatedHost(opts: {
  entry: string;
  env: Record<string, string>;
  seed?: number;
  faults?: Faults;
  start?: number;
  log?: (line: string) => void;
}): Promise<SimulatedHost> {
  Object.assign(process.env, opts.env);
  const registrations = await loadApp(pathToFileURL(opts.entry).href);
  // The client data names the API's URL, known once the hub (which the API serves) exists.
  const holder: { api?: ClientApi } = {};
  const clientData = () => ({
    taskHubName: 'hub',
    creationUrls: {},
    managementUrls: { id: 'INSTANCEID' },
    baseUrl: holder.api!.rpcBaseUrl,
    requiredQueryStringParameters: '',
    rpcBaseUrl: holder.api!.rpcBaseUrl,
  });
  const context = (reg: Registration) => {
    const bindings = Object.entries(reg.bindings).map(([name, b]) => ({ ...b, name }));
    const extraInputs = bindings.filter((b) => b.direction === 'in' && !/trigger$/i.test(b.type));
    const ctx = new InvocationContext({
      functionName: reg.name,
      invocationId: `inv-${Math.random().toString(36).slice(2)}`,
      logHandler: (_level, ...args) => opts.log?.(`[${reg.name}] ${args.join(' ')}`),
      options: {
        trigger: bindings.find((b) => /trigger$/i.test(b.type)) as never,
        extraInputs: extraInputs as never,
        extraOutputs: [],
      },
    });
    for (const b of extraInputs) if (b.type === 'durableClient') ctx.extraInputs.set(b as never, clientData());
    return ctx;
  };
  const hub = new TaskHub({
    registrations,
    seed: opts.seed,
    faults: opts.faults,
    start: opts.start,
    context,
    log: opts.log,
  });
  const api = (holder.api = await startClientApi(hub));
  const byName = new Map(registrations.map((r) => [r.name, r]));
  return {
    hub,
    api,
    registrations,
    async http(name, init) {
      const reg = byName.get(name);
      if (!reg) throw new Error(`no function ${name}`);
      const req = new HttpRequest({
        method: init.method,
        url: `http://127.0.0.1/api/${init.path}`,
        headers: { 'content-type': 'application/json', ...init.headers },
        params: init.params,
        ...(init.body === undefined ? {} : { body: { string: JSON.stringify(init.body) } }),
      });
      const res = (await reg.handler(req, context(reg))) as { status?: number; jsonBody?: unknown };
      return { status: res.status ?? 200, body: res.jsonBody };
    },
    close: () => api.close(),
  };
}
