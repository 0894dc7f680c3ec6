/**
 * How the two apps scale and where Durable state lives, from the evaluated template: Flex Consumption always-ready
 * instances for the `durable` group, the Durable backend (Azure Storage or Durable Task Scheduler) and the worker's
 * KEDA rule on live sessions (the contract: GET /api/internal/scale → {"liveSessions", "workers"}, bearer secret).
 */
import { describe, expect, it } from 'vitest';
import type { Evaluation } from './arm-eval';
import { deploy } from './compiled';
import { read } from './files';

const site = (e: Evaluation) => e.ofType('Microsoft.Web/sites')[0]!.value.properties;
const settings = (e: Evaluation) =>
  e.ofType('Microsoft.Web/sites/config').find((c) => c.name.endsWith('/appsettings'))!.value.properties as Record<
    string,
    unknown
  >;
const worker = (e: Evaluation) => e.ofType('Microsoft.App/containerApps')[0]!.value.properties;

describe('Function app on Flex Consumption', () => {
  it('keeps one always-ready instance for the durable group by default', () => {
    const scale = site(deploy()).functionAppConfig.scaleAndConcurrency;
    expect(scale.alwaysReady).toEqual([{ name: 'durable', instanceCount: 1 }]);
    expect(scale).toMatchObject({ instanceMemoryMB: 2048, maximumInstanceCount: 100 });
  });

  it('allows 0 (nothing billed at idle) and more', () => {
    expect(site(deploy({ durableAlwaysReady: 0 })).functionAppConfig.scaleAndConcurrency.alwaysReady).toEqual([]);
    expect(site(deploy({ durableAlwaysReady: 2 })).functionAppConfig.scaleAndConcurrency.alwaysReady).toEqual([
      { name: 'durable', instanceCount: 2 },
    ]);
  });

  it('runs Node 20 on FC1 from a blob container package', () => {
    const e = deploy();
    expect(site(e).functionAppConfig.runtime).toEqual({ name: 'node', version: '20' });
    expect(site(e).functionAppConfig.deployment.storage.type).toBe('blobContainer');
    expect(e.ofType('Microsoft.Web/serverfarms')[0]!.value.sku).toEqual({ tier: 'FlexConsumption', name: 'FC1' });
  });
});

describe('Durable backend', () => {
  it('storage (default): the Azure Storage provider on the app’s account, no scheduler', () => {
    const e = deploy();
    expect(e.ofType('Microsoft.DurableTask/schedulers')).toEqual([]);
    expect(settings(e)).toMatchObject({
      AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: 'AzureStorage',
      AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: 'AzureWebJobsStorage',
      DURABLE_TASK_SCHEDULER_CONNECTION_STRING: '',
      DURABLE_TASK_HUB: 'voiceagents',
    });
  });

  it('dts: a Consumption scheduler and task hub, the identity-based connection string, the host pointed at it', () => {
    const e = deploy({ durableBackend: 'dts' });
    const [scheduler] = e.ofType('Microsoft.DurableTask/schedulers');
    expect(scheduler!.value.properties.sku).toEqual({ name: 'Consumption' });
    expect(scheduler!.value.properties.ipAllowlist.length).toBeGreaterThan(0);
    const [hub] = e.ofType('Microsoft.DurableTask/schedulers/taskHubs');
    expect(hub!.name.split('/')[1]).toBe('voiceagents');
    const s = settings(e);
    expect(s.AzureFunctionsJobHost__extensions__durableTask__storageProvider__type).toBe('azureManaged');
    expect(s.AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName).toBe(
      'DURABLE_TASK_SCHEDULER_CONNECTION_STRING',
    );
    expect(s.DURABLE_TASK_SCHEDULER_CONNECTION_STRING).toBe(
      'Endpoint={{scheduler/scheduler.endpoint}};Authentication=ManagedIdentity;ClientID={{functionIdentity/identity.clientId}}',
    );
    expect(s.DURABLE_TASK_HUB).toBe('voiceagents');
  });
});

describe('worker fleet scaled by sessions held', () => {
  const rules = (e: Evaluation) => worker(e).template.scale.rules as { name: string; [k: string]: any }[];

  it('reads liveSessions from the Function app’s scale endpoint with the worker secret as bearer', () => {
    const e = deploy();
    const live = rules(e).find((r) => r.name === 'live-sessions')!;
    expect(live.custom.type).toBe('metrics-api');
    expect(live.custom.metadata).toEqual({
      url: `${String(e.outputs.FUNCTION_APP_URL)}/api/internal/scale`,
      valueLocation: 'liveSessions',
      targetValue: '200',
      authMode: 'bearer',
    });
    expect(live.custom.auth).toEqual([{ secretRef: 'worker-auth-secret', triggerParameter: 'token' }]);
    // The secret is the Key Vault one the worker itself presents on internal routes.
    const secret = worker(e).configuration.secrets.find((x: { name: string }) => x.name === 'worker-auth-secret');
    expect(String(secret.keyVaultUrl)).toMatch(/secrets\/worker-auth-secret$/);
  });

  it('reads a route the Function app serves: GET internal/scale, behind the worker secret like the other internal routes', () => {
    const routes = read('functions/routes.ts');
    const entry = /\{[^{}]*route: 'internal\/scale'[^{}]*\}/.exec(routes)?.[0];
    expect(entry, 'functions/routes.ts declares no internal/scale route').toBeDefined();
    expect(entry).toMatch(/methods: \['GET'\]/);
    const handlers = read('functions/handlers/internal-lifecycle.ts');
    const scale = handlers.slice(handlers.indexOf('export const internalScaleHandler'));
    expect(scale.slice(0, scale.indexOf('};'))).toMatch(/authorize\(req, deps\.config\.WORKER_AUTH_SECRET\)/);
  });

  it('takes the sessions per replica from workerSessionsPerReplica', () => {
    const live = rules(deploy({ workerSessionsPerReplica: 50 })).find((r) => r.name === 'live-sessions')!;
    expect(live.custom.metadata.targetValue).toBe('50');
  });

  it('keeps the HTTP rule for attach bursts, and a drain window longer than the worker needs (about 20 s)', () => {
    const e = deploy();
    expect(rules(e).map((r) => r.name)).toEqual(['live-sessions', 'http']);
    expect(worker(e).template.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(30);
    expect(worker(e).template.scale).toMatchObject({ minReplicas: 1, maxReplicas: 10, cooldownPeriod: 300 });
  });

  it('may scale to zero only by choice (workerMinReplicas 0): the sessions rule then holds replicas while calls are live', () => {
    expect(worker(deploy({ workerMinReplicas: 0 })).template.scale.minReplicas).toBe(0);
  });
});
