/**
 * The compiled template (bicep build of infra/main.bicep, evaluated for azd's parameters): resource types and API
 * versions, keyless settings on every resource that has them, parameters, azd conventions, no secret literal.
 * Wiring (module params, outputs, types) is the compiler's job now: infra:check fails on any error or warning.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compiledTemplate, deploy } from './compiled';
import { bicepFiles, read, ROOT } from './files';

const template = compiledTemplate();
const all = deploy();
const one = (type: string) => {
  const found = all.ofType(type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
};

/** Every resource type the template deploys, with its API version: a new type or version is a deliberate edit. */
const API_VERSIONS: Record<string, string> = {
  'Microsoft.App/containerApps': '2026-07-01',
  'Microsoft.App/managedEnvironments': '2026-07-01',
  'Microsoft.Authorization/roleAssignments': '2022-04-01',
  'Microsoft.CognitiveServices/accounts': '2026-09-01',
  'Microsoft.CognitiveServices/accounts/deployments': '2026-09-01',
  'Microsoft.ContainerRegistry/registries': '2025-11-01',
  'Microsoft.DurableTask/schedulers': '2026-02-01',
  'Microsoft.DurableTask/schedulers/taskHubs': '2026-02-01',
  // Preview: the only GA version (2016-09-01) has no categoryGroup (see container-apps-environment.bicep).
  'Microsoft.Insights/diagnosticSettings': '2021-05-01-preview',
  'Microsoft.Insights/components': '2020-02-02',
  'Microsoft.Insights/workbooks': '2023-06-01',
  'Microsoft.KeyVault/vaults': '2026-05-15',
  'Microsoft.KeyVault/vaults/secrets': '2026-05-15',
  'Microsoft.ManagedIdentity/userAssignedIdentities': '2024-11-30',
  'Microsoft.Network/privateDnsZones': '2024-06-01',
  'Microsoft.Network/privateDnsZones/A': '2024-06-01',
  'Microsoft.Network/privateDnsZones/virtualNetworkLinks': '2024-06-01',
  'Microsoft.Network/privateEndpoints': '2026-03-01',
  'Microsoft.Network/privateEndpoints/privateDnsZoneGroups': '2026-03-01',
  'Microsoft.Network/virtualNetworks': '2026-03-01',
  'Microsoft.OperationalInsights/workspaces': '2026-03-01',
  'Microsoft.Resources/resourceGroups': '2025-04-01',
  'Microsoft.SignalRService/webPubSub': '2024-03-01',
  'Microsoft.Storage/storageAccounts': '2026-09-01',
  'Microsoft.Storage/storageAccounts/blobServices': '2026-09-01',
  'Microsoft.Storage/storageAccounts/blobServices/containers': '2026-09-01',
  'Microsoft.Storage/storageAccounts/tableServices': '2026-09-01',
  'Microsoft.Storage/storageAccounts/tableServices/tables': '2026-09-01',
  'Microsoft.Web/serverfarms': '2025-03-01',
  'Microsoft.Web/sites': '2025-03-01',
  'Microsoft.Web/sites/basicPublishingCredentialsPolicies': '2025-03-01',
  'Microsoft.Web/sites/config': '2025-03-01',
};

describe('resource types and API versions', () => {
  // Every optional part on: the scheduler backend, private endpoints (the default), a webhook secret.
  const everything = deploy({ durableBackend: 'dts', webhookSecrets: 'whsec_x' });

  it('deploys exactly the listed types, each at its listed API version', () => {
    const seen = Object.fromEntries(everything.resources.map((r) => [r.type, r.apiVersion]));
    expect(seen).toEqual(API_VERSIONS);
  });

  it('uses no preview API version beyond the one justified above', () => {
    const previews = everything.resources.filter((r) => r.apiVersion.includes('preview')).map((r) => r.type);
    expect([...new Set(previews)]).toEqual(['Microsoft.Insights/diagnosticSettings']);
  });

  it('gives every resource group-scoped module the resource group azd creates', () => {
    const modules = Object.values(template.resources as Record<string, any>).filter(
      (r) => r.type === 'Microsoft.Resources/deployments',
    );
    expect(modules.length).toBeGreaterThanOrEqual(15);
    for (const m of modules) expect(m.resourceGroup).toBe("[format('rg-{0}', parameters('environmentName'))]");
  });
});

describe('keyless: local auth is off on every resource that has it', () => {
  it.each([
    [
      'Microsoft.Storage/storageAccounts',
      (p: any) => p.allowSharedKeyAccess === false && p.allowBlobPublicAccess === false,
    ],
    ['Microsoft.CognitiveServices/accounts', (p: any) => p.disableLocalAuth === true],
    ['Microsoft.SignalRService/webPubSub', (p: any) => p.disableLocalAuth === true],
    ['Microsoft.Insights/components', (p: any) => p.DisableLocalAuth === true],
    ['Microsoft.OperationalInsights/workspaces', (p: any) => p.features.disableLocalAuth === true],
    ['Microsoft.ContainerRegistry/registries', (p: any) => p.adminUserEnabled === false],
    ['Microsoft.KeyVault/vaults', (p: any) => p.enableRbacAuthorization === true],
  ])('%s', (type, off) => {
    expect(off(one(type).value.properties)).toBe(true);
  });

  it('refuses publishing credentials (scm and ftp) on the Function app', () => {
    const policies = all.ofType('Microsoft.Web/sites/basicPublishingCredentialsPolicies');
    expect(policies.map((p) => [p.name.split('/')[1], p.value.properties.allow])).toEqual([
      ['scm', false],
      ['ftp', false],
    ]);
  });

  it('hands the Container Apps environment no Log Analytics shared key', () => {
    const env = one('Microsoft.App/managedEnvironments').value.properties;
    expect(env.appLogsConfiguration).toEqual({ destination: 'azure-monitor' });
    expect(JSON.stringify(env)).not.toMatch(/sharedKey/i);
  });

  it('runs host storage, the deployment package and Key Vault references on the user-assigned identity', () => {
    const site = one('Microsoft.Web/sites').value;
    const identity = Object.keys(site.identity.userAssignedIdentities);
    expect(site.identity.type).toBe('UserAssigned');
    expect(site.properties.keyVaultReferenceIdentity).toEqual(expect.anything());
    expect(site.properties.functionAppConfig.deployment.storage.authentication.type).toBe('UserAssignedIdentity');
    expect(identity).toHaveLength(1);
    const worker = one('Microsoft.App/containerApps').value;
    expect(worker.identity.type).toBe('UserAssigned');
    expect(worker.properties.configuration.registries[0].identity).toEqual(expect.anything());
  });
});

describe('linter suppressions', () => {
  it('each says why, in a comment right above it', () => {
    const bare: string[] = [];
    for (const f of bicepFiles()) {
      const lines = read(f).split('\n');
      lines.forEach((l, i) => {
        if (l.trim().startsWith('#disable') && !lines[i - 1]?.trim().startsWith('//')) bare.push(`${f}:${i + 1}`);
      });
    }
    expect(bare).toEqual([]);
    expect(read('infra/bicepconfig.json')).not.toMatch(/"level": "(off|warning|info)"/);
  });
});

describe('parameters', () => {
  const params = template.parameters as Record<string, { type: string; defaultValue?: unknown; metadata?: any }>;

  it('describes every parameter of the template and of every module', () => {
    const undocumented: string[] = [];
    const walk = (t: any, where: string) => {
      for (const [name, p] of Object.entries(t.parameters ?? {}) as [string, any][])
        if (!p.metadata?.description) undocumented.push(`${where}.${name}`);
      for (const [symbol, r] of Object.entries(t.resources ?? {}) as [string, any][])
        if (r.type === 'Microsoft.Resources/deployments') walk(r.properties.template, symbol);
    };
    walk(template, 'main');
    expect(undocumented).toEqual([]);
  });

  it('takes the secrets as secure strings', () => {
    for (const p of ['webhookSecrets', 'workerAuthSeed', 'mcpKeySeed']) expect(params[p]!.type).toBe('securestring');
  });

  it('main.parameters.json maps only declared params and every required one', () => {
    const file = JSON.parse(read('infra/main.parameters.json')) as { parameters: Record<string, unknown> };
    expect(Object.keys(file.parameters).filter((p) => !(p in params))).toEqual([]);
    const required = Object.entries(params)
      .filter(([, p]) => !('defaultValue' in p))
      .map(([n]) => n);
    expect(required.filter((p) => !(p in file.parameters))).toEqual([]);
  });
});

describe('azd conventions', () => {
  it('deploys at subscription scope into rg-<environment>', () => {
    expect(template.$schema).toMatch(/subscriptionDeploymentTemplate/);
    expect(one('Microsoft.Resources/resourceGroups').name).toBe('rg-ci');
  });

  it('tags every resource that has a location with azd-env-name', () => {
    const untagged = all.resources
      .filter((r) => r.value.location !== undefined && r.value.tags?.['azd-env-name'] !== 'ci')
      .map((r) => `${r.module}/${r.symbol}`);
    expect(untagged).toEqual([]);
  });

  it('tags the deployable apps with the azure.yaml service names', () => {
    expect(one('Microsoft.Web/sites').value.tags['azd-service-name']).toBe('api');
    expect(one('Microsoft.App/containerApps').value.tags['azd-service-name']).toBe('worker');
  });

  it('outputs what azd and the README use', () => {
    for (const o of [
      'AZURE_CONTAINER_REGISTRY_ENDPOINT',
      'AZURE_KEY_VAULT_NAME',
      'FUNCTION_APP_URL',
      'REALTIME_WEBHOOK_URL',
      'STORAGE_TABLE_ENDPOINT',
      'AZURE_RESOURCE_GROUP',
    ])
      expect(all.outputs).toHaveProperty(o);
    expect(all.outputs.REALTIME_WEBHOOK_URL).toBe(`${String(all.outputs.FUNCTION_APP_URL)}/api/webhooks/realtime`);
    expect(all.outputs.STORAGE_TABLE_ENDPOINT).toMatch(/^https:\/\/st\w+\.table\.core\.windows\.net$/);
  });

  it('deploys gpt-realtime and a small text model', () => {
    const models = all.ofType('Microsoft.CognitiveServices/accounts/deployments').map((d) => d.value.properties.model);
    expect(models.map((m) => m.name)).toEqual(['gpt-realtime', 'gpt-4.1-mini']);
  });
});

describe('no secret literal in infra, azure.yaml or the workflow', () => {
  const SECRET_PATTERNS: [string, RegExp][] = [
    ['storage account key', /AccountKey=/i],
    ['SAS / shared access key', /SharedAccessKey|SharedAccessSignature|[?&]sig=/i],
    ['listKeys() call', /listKeys\s*\(|\.listKeys\b|listConnectionStrings/i],
    ['Web PubSub / service AccessKey', /AccessKey=/],
    ['OpenAI-style API key', /\bsk-[A-Za-z0-9_-]{20,}/],
    ['Standard Webhooks secret', /whsec_[A-Za-z0-9+/=]{8,}/],
    ['api-key header', /api-key['"]?\s*:/i],
    ['private key block', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
    ['password literal', /password\s*[:=]\s*'[^'$]+'/i],
  ];
  const targets = [
    ...bicepFiles(),
    'infra/main.parameters.json',
    ...readdirSync(join(ROOT, 'infra/hooks')).map((f) => `infra/hooks/${f}`),
    'azure.yaml',
    ...readdirSync(join(ROOT, '.github/workflows')).map((f) => `.github/workflows/${f}`),
  ];

  it.each(targets)('%s', (file) => {
    const text = read(file);
    const hits = SECRET_PATTERNS.filter(([, re]) => re.test(text)).map(([name]) => name);
    expect(hits, `${file} contains: ${hits.join(', ')}`).toEqual([]);
  });

  it('nor in the compiled template', () => {
    const text = JSON.stringify(template);
    expect(SECRET_PATTERNS.filter(([, re]) => re.test(text)).map(([n]) => n)).toEqual([]);
  });

  it('the patterns do catch a keyed connection string', () => {
    const sample = 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc==';
    expect(SECRET_PATTERNS.some(([, re]) => re.test(sample))).toBe(true);
  });
});
