/**
 * Configuration contract between shared/config (what each app reads) and the compiled template (what Azure
 * sets, evaluated for azd's parameters). Every setting an app reads is set for that app, every setting set is read
 * (or is a documented host setting), and the production values pass the same zod schema the apps load at start-up.
 */
import { describe, expect, it } from 'vitest';
import { FUNCTIONS_SETTINGS, WORKER_SETTINGS, loadFunctionsConfig, loadWorkerConfig } from '../../shared/config/index';
import { deploy } from './compiled';
import { read } from './files';

const deployed = deploy({ webhookSecrets: 'whsec_x', corsAllowedOrigins: 'https://app.contoso.com' });
const appSettings = deployed.ofType('Microsoft.Web/sites/config').find((c) => c.name.endsWith('/appsettings'))!.value
  .properties as Record<string, unknown>;
const workerEnv = deployed.ofType('Microsoft.App/containerApps')[0]!.value.properties.template.containers[0].env as {
  name: string;
  value?: unknown;
  secretRef?: string;
}[];

/** Read by the Functions host and extensions, not by shared/config. Each needs a reason to be here. */
const FUNCTION_HOST_SETTINGS: Record<string, string> = {
  AzureWebJobsStorage__accountName: 'host storage + Durable task hub over managed identity',
  AzureWebJobsStorage__credential: 'selects managed identity for AzureWebJobsStorage',
  AzureWebJobsStorage__clientId: 'which user-assigned identity AzureWebJobsStorage uses',
  DURABLE_TASK_HUB: 'host.json hubName: %DURABLE_TASK_HUB% (also the scheduler task hub with durableBackend=dts)',
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type:
    'host.json override: AzureStorage or azureManaged (Durable Task Scheduler), per durableBackend',
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName:
    'host.json override: which setting holds the Durable backend connection',
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: 'the scheduler endpoint + managed identity (empty with storage)',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING:
    'Entra-authenticated telemetry from the host (App Insights local auth is off)',
};
const WORKER_HOST_SETTINGS: Record<string, string> = {};

/** Key-based alternatives used only locally (Azurite, emulators). Azure is keyless, so Bicep must not set them. */
const LOCAL_ONLY: Record<string, string> = {
  STORAGE_CONNECTION_STRING: 'Azure uses STORAGE_TABLE_ENDPOINT + managed identity',
  REALTIME_API_KEY: 'Azure OpenAI is called with managed identity (disableLocalAuth)',
  WEBPUBSUB_CONNECTION_STRING: 'Azure uses WEBPUBSUB_ENDPOINT + managed identity (disableLocalAuth)',
};

/** Flex Consumption rejects these as app settings (the runtime lives in functionAppConfig.runtime). */
const REJECTED_ON_FLEX = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'AzureWebJobsStorage',
];

/** `value` is the evaluated setting: a string, or one holding {{placeholders}} for what only a deployment knows. */
const functionKeys = Object.entries(appSettings).map(([key, v]) => ({ key, value: String(v) }));
const workerKeys = workerEnv.map((e) => ({
  key: e.name,
  value: e.secretRef ? `{{secret ${e.secretRef}}}` : String(e.value),
}));

function drift(read: readonly string[], set: readonly string[], host: Record<string, string>) {
  const missing = read.filter((s) => !(s in LOCAL_ONLY) && !set.includes(s));
  const extra = set.filter((s) => !read.includes(s) && !(s in host));
  return { missing, extra };
}

describe('Function app settings (the appsettings resource of the compiled template)', () => {
  const set = functionKeys.map((e) => e.key);

  it('sets every setting FUNCTIONS_SETTINGS reads and nothing unread', () => {
    const { missing, extra } = drift(FUNCTIONS_SETTINGS, set, FUNCTION_HOST_SETTINGS);
    expect(
      missing,
      `read by shared/config but not set by Bicep: ${missing.join(', ')} — add them to appSettings`,
    ).toEqual([]);
    expect(
      extra,
      `set by Bicep but read by nothing: ${extra.join(', ')} — remove them or add to shared/config`,
    ).toEqual([]);
  });

  it('sets each documented host setting and no setting twice', () => {
    expect(Object.keys(FUNCTION_HOST_SETTINGS).filter((s) => !set.includes(s))).toEqual([]);
    expect(set.filter((s, i) => set.indexOf(s) !== i)).toEqual([]);
  });

  it('sets no key-based setting and none Flex Consumption rejects', () => {
    expect(set.filter((s) => s in LOCAL_ONLY || REJECTED_ON_FLEX.includes(s))).toEqual([]);
  });
});

describe('worker settings (the container env of the compiled template)', () => {
  const set = workerKeys.map((e) => e.key);

  it('sets every setting WORKER_SETTINGS reads and nothing unread', () => {
    const { missing, extra } = drift(WORKER_SETTINGS, set, WORKER_HOST_SETTINGS);
    expect(
      missing,
      `read by shared/config but not set by Bicep: ${missing.join(', ')} — add them to the worker env`,
    ).toEqual([]);
    expect(extra, `set by Bicep but read by nothing: ${extra.join(', ')}`).toEqual([]);
    expect(set.filter((s) => s in LOCAL_ONLY)).toEqual([]);
  });
});

/**
 * Production values: evaluated values are taken as they are; one that holds a deployment-time value
 * ({{placeholder}}: a host name, an identity's client id, a Key Vault secret) gets a realistic sample here.
 * A setting with a placeholder and no sample fails the test, naming it.
 */
const RESOLVED: Record<string, string> = {
  AzureWebJobsStorage__accountName: 'stabc123',
  AzureWebJobsStorage__clientId: '00000000-0000-0000-0000-000000000001',
  DURABLE_TASK_HUB: 'voiceagents',
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=00000000-0000-0000-0000-000000000001;Authorization=AAD',
  STORAGE_TABLE_ENDPOINT: 'https://stabc123.table.core.windows.net',
  REALTIME_ENDPOINT: 'https://ai-abc123.openai.azure.com',
  REALTIME_MODEL: 'gpt-realtime',
  AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
  WORKER_AUTH_SECRET: 'a-key-vault-resolved-secret-value',
  MCP_BUILTIN_KEY: 'a-key-vault-resolved-host-key-value',
  WEBPUBSUB_ENDPOINT: 'https://wps-abc123.webpubsub.azure.com',
  TEXT_MODEL: 'gpt-4.1-mini',
  JUDGE_MODEL: 'gpt-4.1-mini',
  APPLICATIONINSIGHTS_CONNECTION_STRING:
    'InstrumentationKey=00000000-0000-0000-0000-000000000002;IngestionEndpoint=https://eastus2-0.in.applicationinsights.azure.com/',
  AUTH_MODE: 'entra',
  ENTRA_TENANT_ID: '00000000-0000-0000-0000-000000000003',
  ENTRA_AUDIENCE: 'api://voice-agents',
  WEBHOOK_SECRETS: 'whsec_dGVzdC1zZWNyZXQtZm9yLWNvbnRyYWN0LXRlc3Q=',
  CORS_ALLOWED_ORIGINS: 'https://app.contoso.com',
  WORKER_URL: 'https://ca-worker-abc123.internal-domain.eastus2.azurecontainerapps.io',
  PORT: '8080',
  FUNCTIONS_BASE_URL: 'https://func-abc123.azurewebsites.net',
  MCP_BUILTIN_URL: 'https://func-abc123.azurewebsites.net/api/mcp',
};

function productionEnv(entries: { key: string; value: string }[]): Record<string, string> {
  const env: Record<string, string> = {};
  const unresolved: string[] = [];
  for (const { key, value } of entries) {
    if (!value.includes('{{')) env[key] = value;
    else if (key in RESOLVED) env[key] = RESOLVED[key]!;
    else unresolved.push(`${key} (${value})`);
  }
  expect(unresolved, `no resolved sample for expression-valued settings: ${unresolved.join(', ')}`).toEqual([]);
  return env;
}

describe('production values pass the apps’ own config schemas', () => {
  it('Function app', () => {
    const cfg = loadFunctionsConfig(productionEnv(functionKeys));
    expect(cfg.REALTIME_PROVIDER).toBe('azure-openai');
    expect(cfg.LIFECYCLE_MODE).toBe('durable');
    expect(cfg.AUTH_MODE).not.toBe('dev');
    expect(cfg.STORAGE_CONNECTION_STRING).toBeUndefined();
    expect(cfg.REALTIME_API_KEY).toBeUndefined();
  });

  it('Function app with AUTH_MODE=easyauth: starts because the template turns App Service Authentication on', () => {
    const easy = deploy({ authMode: 'easyauth' });
    const site = (name: string) =>
      easy.ofType('Microsoft.Web/sites/config').find((c) => c.name.endsWith(`/${name}`))!.value.properties;
    const settings = Object.entries(site('appsettings') as Record<string, unknown>).map(([key, v]) => ({
      key,
      value: String(v),
    }));
    // App Service sets WEBSITE_AUTH_ENABLED itself exactly when the platform's authentication is enabled.
    const platform = { WEBSITE_AUTH_ENABLED: String(site('authsettingsV2').platform.enabled) };
    expect(loadFunctionsConfig({ ...productionEnv(settings), ...platform }).AUTH_MODE).toBe('easyauth');
    // Without the platform in front, the app refuses the mode rather than trust forgeable headers.
    expect(() => loadFunctionsConfig({ ...productionEnv(settings), WEBSITE_AUTH_ENABLED: 'false' })).toThrow(
      /WEBSITE_AUTH_ENABLED/,
    );
  });

  it('worker', () => {
    const cfg = loadWorkerConfig(productionEnv(workerKeys));
    expect(cfg.REALTIME_PROVIDER).toBe('azure-openai');
    expect(cfg.REALTIME_API_KEY).toBeUndefined();
  });

  it('both apps agree on the values they share', () => {
    const shared = FUNCTIONS_SETTINGS.filter((s) => (WORKER_SETTINGS as readonly string[]).includes(s));
    const fn = Object.fromEntries(functionKeys.map((e) => [e.key, e.value]));
    const wk = Object.fromEntries(workerKeys.map((e) => [e.key, e.value]));
    // Known values must match (deployment-time ones differ legitimately: each app's own identity).
    const literal = (v: string | undefined) => (v && !v.includes('{{') ? v : undefined);
    const differ = shared.filter((s) => literal(fn[s]) && literal(wk[s]) && fn[s] !== wk[s]);
    expect(differ, `settings both apps read but Bicep sets differently: ${differ.join(', ')}`).toEqual([]);
  });
});

describe('local.settings.sample.json mirrors the host settings the Bicep sets', () => {
  it('names DURABLE_TASK_HUB with the same task hub', () => {
    const sample = JSON.parse(read('local.settings.sample.json')) as { Values: Record<string, string> };
    const hub = appSettings.DURABLE_TASK_HUB;
    expect(hub).toBe('voiceagents');
    expect(sample.Values.DURABLE_TASK_HUB).toBe(hub);
    expect(read('host.json')).toContain('%DURABLE_TASK_HUB%');
  });
});
