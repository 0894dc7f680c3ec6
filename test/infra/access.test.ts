/**
 * Who can reach what, read from the evaluated template: network rules in private (default) and open mode, every
 * role assignment (role, principal, scope), and App Service Authentication for AUTH_MODE=easyauth.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { BASE_PARAMS, deploy } from './compiled';
import type { Evaluation } from './arm-eval';
import { read, ROOT } from './files';

const one = (e: Evaluation, type: string) => {
  const found = e.ofType(type);
  expect(found, type).toHaveLength(1);
  return found[0]!.value;
};

describe('network: private mode (the default)', () => {
  const e = deploy({ allowedClientIps: '203.0.113.7, 198.51.100.0/24,' });
  const ips = ['203.0.113.7', '198.51.100.0/24'];

  it('Storage denies all but trusted Azure services, the private endpoints and the listed client IPs', () => {
    const acls = one(e, 'Microsoft.Storage/storageAccounts').properties.networkAcls;
    expect(acls).toMatchObject({ defaultAction: 'Deny', bypass: 'AzureServices' });
    expect(acls.ipRules.map((r: { value: string }) => r.value)).toEqual(ips);
  });

  it('Key Vault denies the same way', () => {
    const acls = one(e, 'Microsoft.KeyVault/vaults').properties.networkAcls;
    expect(acls).toMatchObject({ defaultAction: 'Deny', bypass: 'AzureServices' });
    expect(acls.ipRules.map((r: { value: string }) => r.value)).toEqual(ips);
  });

  it('the registry is Premium (the only SKU with a firewall) and lets ACR Tasks build through it', () => {
    const acr = one(e, 'Microsoft.ContainerRegistry/registries');
    expect(acr.sku.name).toBe('Premium');
    expect(acr.properties.networkRuleSet.defaultAction).toBe('Deny');
    expect(acr.properties.networkRuleBypassOptions).toBe('AzureServices');
    expect(acr.properties.networkRuleBypassAllowedForTasks).toBe(true);
  });

  it('puts a private endpoint with its DNS zone, linked to the VNet, in front of each', () => {
    const endpoints = e.ofType('Microsoft.Network/privateEndpoints').map((p) => {
      const c = p.value.properties.privateLinkServiceConnections[0].properties;
      return [c.groupIds[0], String(c.privateLinkServiceId).replace(/^\/providers\//, '')];
    });
    expect(endpoints).toEqual([
      ['blob', expect.stringMatching(/^Microsoft\.Storage\/storageAccounts\/st\w+$/)],
      ['queue', endpoints[0]![1]],
      ['table', endpoints[0]![1]],
      ['vault', expect.stringMatching(/^Microsoft\.KeyVault\/vaults\/kv-\w+$/)],
      ['registry', expect.stringMatching(/^Microsoft\.ContainerRegistry\/registries\/cr\w+$/)],
    ]);
    const zones = e.ofType('Microsoft.Network/privateDnsZones').map((z) => z.name);
    expect(zones).toEqual(
      expect.arrayContaining([
        'privatelink.blob.core.windows.net',
        'privatelink.queue.core.windows.net',
        'privatelink.table.core.windows.net',
        'privatelink.vaultcore.azure.net',
        'privatelink.azurecr.io',
      ]),
    );
    expect(e.ofType('Microsoft.Network/privateDnsZones/virtualNetworkLinks')).toHaveLength(zones.length);
    expect(e.ofType('Microsoft.Network/privateEndpoints/privateDnsZoneGroups')).toHaveLength(5);
  });

  it('routes all of the Function app’s traffic through the VNet, keeps the worker environment internal', () => {
    const site = one(e, 'Microsoft.Web/sites').properties;
    expect(site.virtualNetworkSubnetId).toMatch(/virtualNetworks\/vnet-\w+\/subnets\/functions$/);
    expect(site.siteConfig.vnetRouteAllEnabled).toBe(true);
    expect(one(e, 'Microsoft.App/managedEnvironments').properties.vnetConfiguration.internal).toBe(true);
    const subnets = one(e, 'Microsoft.Network/virtualNetworks').properties.subnets.map((s: any) => s.name);
    expect(subnets).toEqual(['container-apps', 'functions', 'private-endpoints']);
  });

  it('leaves AI Services and Web PubSub public: the browser connects to both directly (keys off, Entra or tokens only)', () => {
    expect(one(e, 'Microsoft.CognitiveServices/accounts').properties.publicNetworkAccess).toBe('Enabled');
    expect(one(e, 'Microsoft.SignalRService/webPubSub').properties.publicNetworkAccess).toBe('Enabled');
  });
});

describe('network: open development mode', () => {
  const e = deploy({ networkAccess: 'open' });

  it('opens Storage and Key Vault firewalls, uses a Basic registry, creates no private endpoint', () => {
    expect(one(e, 'Microsoft.Storage/storageAccounts').properties.networkAcls.defaultAction).toBe('Allow');
    expect(one(e, 'Microsoft.KeyVault/vaults').properties.networkAcls.defaultAction).toBe('Allow');
    const acr = one(e, 'Microsoft.ContainerRegistry/registries');
    expect(acr.sku.name).toBe('Basic');
    expect(acr.properties.networkRuleSet).toBeNull();
    expect(e.ofType('Microsoft.Network/privateEndpoints')).toEqual([]);
    expect(one(e, 'Microsoft.Web/sites').properties.siteConfig.vnetRouteAllEnabled).toBe(false);
  });

  it('is only reachable through the parameter (private is the default)', () => {
    expect(read('infra/main.parameters.json')).toContain(
      '"networkAccess": { "value": "${AZURE_NETWORK_ACCESS=private}" }',
    );
  });
});

// Built-in role definition ids (Azure RBAC built-in roles reference).
const BUILT_IN_ROLES: Record<string, string> = {
  'Cognitive Services OpenAI User': '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Storage Table Data Reader': '76199698-9eea-4c19-bc75-cec21354c6b6',
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Web PubSub Service Owner': '12cf5a90-567b-43ae-8102-96cf46c7d9b4',
  AcrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
  'Durable Task Data Contributor': '0ad04412-c4d5-4796-b79c-f76d14c8d402',
};
const ROLE_NAME = Object.fromEntries(Object.entries(BUILT_IN_ROLES).map(([n, id]) => [id, n]));

/** Every grant as `principal | role | scope`, the scope shortened to what it names. */
function grants(e: Evaluation): string[] {
  const who = (p: unknown) =>
    String(p) === '{{functionIdentity/identity.principalId}}'
      ? 'api'
      : String(p) === '{{workerIdentity/identity.principalId}}'
        ? 'worker'
        : p === BASE_PARAMS.principalId
          ? 'deployer'
          : `unknown ${String(p)}`;
  return e
    .ofType('Microsoft.Authorization/roleAssignments')
    .map((r) => {
      const role = ROLE_NAME[String(r.value.properties.roleDefinitionId).split('/').pop()!] ?? 'unknown role';
      // Namespace/type[/child type.../child name]: the top resource's name is the same in every deployment.
      const [ns, ...rest] = String(r.scope)
        .replace(/^\/providers\//, '')
        .split('/');
      const types = rest.filter((_, i) => i % 2 === 0);
      const scope = [ns, ...types, ...(rest.length > 2 ? [rest[rest.length - 1]] : [])].join('/');
      return `${who(r.value.properties.principalId)} | ${role} | ${scope}`;
    })
    .sort();
}

describe('least-privilege role assignments', () => {
  it('roles.bicep names only built-in roles, each commented with its role name', () => {
    const table = [
      ...read('infra/modules/roles.bicep').matchAll(/^[ \t]*\/\/ ([^:\n]+):.*\n[ \t]*(\w+): '([0-9a-f-]{36})'/gm),
    ];
    expect(table.length).toBe(Object.keys(BUILT_IN_ROLES).length);
    for (const [, name, , id] of table) expect(BUILT_IN_ROLES[name!], `unknown role ${name}`).toBe(id);
  });

  it('grants exactly these: per table for the worker, per secret in Key Vault, nothing vault- or account-wide to the worker', () => {
    expect(grants(deploy({ webhookSecrets: 'whsec_x', durableBackend: 'dts' }))).toEqual(
      [
        'api | Monitoring Metrics Publisher | Microsoft.Insights/components',
        'worker | Monitoring Metrics Publisher | Microsoft.Insights/components',
        'api | Storage Table Data Contributor | Microsoft.Storage/storageAccounts',
        'api | Storage Blob Data Owner | Microsoft.Storage/storageAccounts',
        'api | Storage Queue Data Contributor | Microsoft.Storage/storageAccounts',
        'deployer | Storage Table Data Contributor | Microsoft.Storage/storageAccounts',
        'worker | Storage Table Data Reader | Microsoft.Storage/storageAccounts/tableServices/tables/agents',
        'worker | Storage Table Data Contributor | Microsoft.Storage/storageAccounts/tableServices/tables/history',
        'worker | Storage Table Data Contributor | Microsoft.Storage/storageAccounts/tableServices/tables/sessions',
        'worker | Storage Table Data Contributor | Microsoft.Storage/storageAccounts/tableServices/tables/toolruns',
        'worker | Storage Table Data Contributor | Microsoft.Storage/storageAccounts/tableServices/tables/calls',
        'api | Key Vault Secrets User | Microsoft.KeyVault/vaults/secrets/webhook-secrets',
        'api | Key Vault Secrets User | Microsoft.KeyVault/vaults/secrets/worker-auth-secret',
        'api | Key Vault Secrets User | Microsoft.KeyVault/vaults/secrets/mcp-builtin-key',
        'worker | Key Vault Secrets User | Microsoft.KeyVault/vaults/secrets/worker-auth-secret',
        'worker | Key Vault Secrets User | Microsoft.KeyVault/vaults/secrets/mcp-builtin-key',
        'deployer | Key Vault Secrets User | Microsoft.KeyVault/vaults/secrets/worker-auth-seed',
        'deployer | Key Vault Secrets User | Microsoft.KeyVault/vaults/secrets/mcp-builtin-key-seed',
        'deployer | Key Vault Secrets User | Microsoft.KeyVault/vaults/secrets/mcp-builtin-key',
        'api | Cognitive Services OpenAI User | Microsoft.CognitiveServices/accounts',
        'worker | Cognitive Services OpenAI User | Microsoft.CognitiveServices/accounts',
        'api | Web PubSub Service Owner | Microsoft.SignalRService/webPubSub',
        'worker | Web PubSub Service Owner | Microsoft.SignalRService/webPubSub',
        'worker | AcrPull | Microsoft.ContainerRegistry/registries',
        'api | Durable Task Data Contributor | Microsoft.DurableTask/schedulers/taskHubs/voiceagents',
      ].sort(),
    );
  });

  it('grants the worker exactly the tables its code opens (a new one would be a 403 in Azure)', async () => {
    // Every source file the worker's bundle pulls in, and the TABLES entries they name.
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: ['worker/main.ts'],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      logLevel: 'silent',
    });
    const tablesTs = read('shared/storage/tables.ts');
    const byKey = Object.fromEntries([...tablesTs.matchAll(/^\s+(\w+): '(\w+)',$/gm)].map((m) => [m[1]!, m[2]!]));
    const used = new Set<string>();
    for (const file of Object.keys(result.metafile.inputs).filter((f) => !f.includes('node_modules'))) {
      const src = readFileSync(join(ROOT, file), 'utf8');
      for (const m of src.matchAll(/\bTABLES\.(\w+)/g)) used.add(byKey[m[1]!]!);
    }
    const granted = grants(deploy())
      .filter((g) => g.startsWith('worker') && g.includes('/tables/'))
      .map((g) => g.split('/').pop()!);
    expect([...used].sort()).toEqual(granted.sort());
  });

  it('creates the tables the worker is granted, and every table shared/storage names', () => {
    const tables = deploy()
      .ofType('Microsoft.Storage/storageAccounts/tableServices/tables')
      .map((t) => t.name.split('/').pop());
    const named = [...read('shared/storage/tables.ts').matchAll(/^\s+\w+: '(\w+)',$/gm)].map((m) => m[1]);
    expect(tables.sort()).toEqual(named.sort());
  });

  it('grants nothing to the deployer when azd has no principal, and no webhook secret read when none is stored', () => {
    const g = grants(deploy({ principalId: '' }));
    expect(g.filter((x) => x.startsWith('deployer') || x.includes('webhook-secrets'))).toEqual([]);
  });

  it('names each assignment deterministically (a re-provision updates, never duplicates)', () => {
    const names = (e: Evaluation) => e.ofType('Microsoft.Authorization/roleAssignments').map((r) => r.name);
    expect(names(deploy())).toEqual(names(deploy()));
    expect(new Set(names(deploy())).size).toBe(names(deploy()).length);
  });
});

describe('App Service Authentication (AUTH_MODE=easyauth)', () => {
  const auth = (e: Evaluation) =>
    e.ofType('Microsoft.Web/sites/config').find((c) => c.name.endsWith('/authsettingsV2'))!.value.properties;

  it('is on with easyauth: Entra tokens for this API required, 401 otherwise; unsigned routes excluded', () => {
    const a = auth(deploy({ authMode: 'easyauth', entraClientId: '22222222-2222-2222-2222-222222222222' }));
    expect(a.platform.enabled).toBe(true);
    expect(a.globalValidation).toEqual({
      requireAuthentication: true,
      unauthenticatedClientAction: 'Return401',
      excludedPaths: ['/api/health', '/api/webhooks/*', '/api/internal/*', '/api/mcp'],
    });
    const aad = a.identityProviders.azureActiveDirectory;
    expect(aad.registration.clientId).toBe('22222222-2222-2222-2222-222222222222');
    expect(aad.registration.openIdIssuer).toMatch(/^https:\/\/login\.microsoftonline\.com\/[0-9a-f-]{36}\/v2\.0$/);
    expect(aad.validation.allowedAudiences).toEqual([BASE_PARAMS.entraAudience]);
  });

  it('is off with entra (the app validates tokens itself), and the app is told which mode', () => {
    const e = deploy();
    expect(auth(e).platform.enabled).toBe(false);
    const settings = e.ofType('Microsoft.Web/sites/config').find((c) => c.name.endsWith('/appsettings'))!;
    expect(settings.value.properties.AUTH_MODE).toBe('entra');
  });

  it('excludes only routes that carry their own proof (signature, shared secret, host key) or none (health)', () => {
    const routes = read('functions/routes.ts');
    for (const r of ['health', 'webhooks/realtime', 'internal/heartbeats', 'mcp']) expect(routes).toContain(`'${r}'`);
  });
});
