/**
 * Structural checks of infra/ read as text (no Bicep CLI here): the wiring a compiler would check (module
 * params), the security posture (local auth off everywhere, least-privilege built-in roles to known principals,
 * no secret literal), and azd conventions.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bicepFiles,
  bracketProblems,
  mask,
  modules,
  params,
  read,
  resources,
  ROOT,
  varObjectEntries,
} from './bicep-text';

const main = read('infra/main.bicep');
const files = bicepFiles();

describe('every Bicep file', () => {
  it.each(files)('%s has balanced brackets', (file) => {
    expect(bracketProblems(read(file))).toEqual([]);
  });

  it.each(files)('%s describes every parameter', (file) => {
    const undocumented = params(read(file))
      .filter((p) => !p.decorators.some((d) => /^@description\('.+'\)$/.test(d)))
      .map((p) => `${p.name} (line ${p.line})`);
    expect(undocumented, `parameters without @description in ${file}: ${undocumented.join(', ')}`).toEqual([]);
  });

  it.each(files)('%s marks secret parameters @secure() and never outputs them', (file) => {
    const src = read(file);
    const ps = params(src);
    const secretNamed = ps.filter((p) => /secret|password|seed|key$/i.test(p.name) && !/Uri$|Id$/.test(p.name));
    const notSecure = secretNamed.filter((p) => !p.decorators.includes('@secure()')).map((p) => p.name);
    expect(notSecure, `secret-looking parameters without @secure(): ${notSecure.join(', ')}`).toEqual([]);
    const secure = ps.filter((p) => p.decorators.includes('@secure()')).map((p) => p.name);
    const leaked = src
      .split('\n')
      .filter((l) => l.startsWith('output '))
      .filter((l) => secure.some((s) => new RegExp(`\\b${s}\\b`).test(l.replace(/^output\s+\w+/, ''))));
    expect(leaked).toEqual([]);
  });
});

describe('module wiring (what `bicep build` would reject)', () => {
  const uses = modules(main);

  it('references module files that exist', () => {
    const missing = uses.filter((m) => !existsSync(join(ROOT, 'infra', m.path))).map((m) => m.path);
    expect(missing).toEqual([]);
    expect(uses.length).toBeGreaterThanOrEqual(12);
  });

  it.each(uses.map((m) => [m.symbol, m] as const))(
    'module %s passes only declared params and every required one',
    (_s, m) => {
      const declared = params(read(join('infra', m.path)));
      const passed = m.params.map((p) => p.key);
      const unknown = passed.filter((p) => !declared.some((d) => d.name === p));
      const requiredMissing = declared.filter((d) => !d.hasDefault && !passed.includes(d.name)).map((d) => d.name);
      expect(unknown, `${m.path}: passed but not declared: ${unknown.join(', ')}`).toEqual([]);
      expect(requiredMissing, `${m.path}: required but not passed: ${requiredMissing.join(', ')}`).toEqual([]);
    },
  );

  it('reads only outputs the modules declare (X.outputs.Y)', () => {
    const bySymbol = new Map(uses.map((m) => [m.symbol, m.path]));
    const wrong: string[] = [];
    for (const ref of main.matchAll(/\b(\w+)\.outputs\.(\w+)/g)) {
      const path = bySymbol.get(ref[1]!);
      if (!path) {
        wrong.push(`${ref[0]}: no module ${ref[1]}`);
        continue;
      }
      if (!new RegExp(`^output ${ref[2]} `, 'm').test(read(join('infra', path))))
        wrong.push(`${ref[0]}: ${path} has no output ${ref[2]}`);
    }
    expect(wrong).toEqual([]);
  });

  it.each(files)('%s uses every parameter and variable it declares (the linter would warn)', (file) => {
    const src = read(file);
    const masked = mask(src);
    const declared = [...params(src).map((p) => p.name), ...[...src.matchAll(/^var (\w+) =/gm)].map((m) => m[1]!)];
    const exported = [...src.matchAll(/^@export\(\)\n(?:@.*\n)*(?:var|type) (\w+)/gm)].map((m) => m[1]!);
    const unused = declared.filter(
      (name) => !exported.includes(name) && (masked.match(new RegExp(`\\b${name}\\b`, 'g')) ?? []).length < 2,
    );
    expect(unused, `${file}: declared but never used: ${unused.join(', ')}`).toEqual([]);
  });

  it('uses every module file under infra/modules', () => {
    const used = new Set(uses.map((m) => m.path.replace('modules/', '')));
    used.add('roles.bicep'); // imported, not deployed
    const unused = readdirSync(join(ROOT, 'infra/modules')).filter((f) => f.endsWith('.bicep') && !used.has(f));
    expect(unused).toEqual([]);
  });

  it('main.parameters.json maps only declared params and every required one', () => {
    const file = JSON.parse(read('infra/main.parameters.json')) as { parameters: Record<string, unknown> };
    const declared = params(main);
    const unknown = Object.keys(file.parameters).filter((p) => !declared.some((d) => d.name === p));
    const missing = declared.filter((d) => !d.hasDefault && !(d.name in file.parameters)).map((d) => d.name);
    expect(unknown).toEqual([]);
    expect(missing).toEqual([]);
  });
});

/** Resource type -> the property that turns off key/password-based access, as written in the module. */
const LOCAL_AUTH_OFF: [type: string, setting: RegExp][] = [
  ['Microsoft.Storage/storageAccounts', /\ballowSharedKeyAccess: false\b/],
  ['Microsoft.CognitiveServices/accounts', /\bdisableLocalAuth: true\b/],
  ['Microsoft.SignalRService/webPubSub', /\bdisableLocalAuth: true\b/],
  ['Microsoft.Insights/components', /\bDisableLocalAuth: true\b/],
  ['Microsoft.OperationalInsights/workspaces', /\bdisableLocalAuth: true\b/],
  ['Microsoft.ContainerRegistry/registries', /\badminUserEnabled: false\b/],
  ['Microsoft.KeyVault/vaults', /\benableRbacAuthorization: true\b/],
  ['basicPublishingCredentialsPolicies', /\ballow: false\b/],
];

describe('keyless: local auth is off on every resource that has it', () => {
  const all = files.flatMap((f) => resources(read(f)).map((r) => ({ ...r, file: f })));

  it.each(LOCAL_AUTH_OFF)('%s', (type, setting) => {
    const found = all.filter((r) => r.type === type);
    expect(found.length, `no ${type} declared`).toBeGreaterThan(0);
    const open = found.filter((r) => !setting.test(r.body.text)).map((r) => `${r.file}:${r.symbol}`);
    expect(open, `${type} without ${setting}: ${open.join(', ')}`).toEqual([]);
  });

  it('the Container Apps environment does not take the Log Analytics shared key', () => {
    const env = all.find((r) => r.type === 'Microsoft.App/managedEnvironments')!;
    expect(env.body.text).toMatch(/destination: 'azure-monitor'/);
    expect(env.body.text).not.toMatch(/sharedKey/);
  });

  it('host storage, deployment package and Key Vault references use the user-assigned identity', () => {
    const fn = read('infra/modules/function-app.bicep');
    expect(fn).toMatch(
      /authentication: \{ type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId \}/,
    );
    expect(fn).toMatch(/keyVaultReferenceIdentity: identityId/);
    const settings = Object.fromEntries(varObjectEntries(fn, 'appSettings').map((e) => [e.key, e.value]));
    expect(settings.AzureWebJobsStorage__credential).toBe("'managedidentity'");
    expect(settings.WORKER_AUTH_SECRET).toMatch(/^kvRef\(/);
    expect(settings.WEBHOOK_SECRETS).toMatch(/kvRef\(webhookSecretsUri\)/);
    const worker = read('infra/modules/worker-app.bicep');
    expect(worker).toMatch(/keyVaultUrl: workerAuthSecretUri, identity: identityId/);
    expect(worker).toMatch(/registries: \[\{ server: registryServer, identity: identityId \}\]/);
  });
});

// Built-in role definition ids (Azure RBAC built-in roles reference).
const BUILT_IN_ROLES: Record<string, string> = {
  'Cognitive Services OpenAI User': '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Web PubSub Service Owner': '12cf5a90-567b-43ae-8102-96cf46c7d9b4',
  AcrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
};

/** The complete grant list: [module, principal, role key]. Adding a grant means adding it here, deliberately. */
const EXPECTED_GRANTS = [
  ['monitoring', 'api', 'monitoringMetricsPublisher'],
  ['monitoring', 'worker', 'monitoringMetricsPublisher'],
  ['storage', 'api', 'storageTableDataContributor'],
  ['storage', 'api', 'storageBlobDataOwner'],
  ['storage', 'api', 'storageQueueDataContributor'],
  ['storage', 'worker', 'storageTableDataContributor'],
  ['storage', 'principalId', 'storageTableDataContributor'],
  ['keyVault', 'api', 'keyVaultSecretsUser'],
  ['keyVault', 'worker', 'keyVaultSecretsUser'],
  ['keyVault', 'principalId', 'keyVaultSecretsUser'],
  ['ai', 'api', 'cognitiveServicesOpenAIUser'],
  ['ai', 'worker', 'cognitiveServicesOpenAIUser'],
  ['webPubSub', 'api', 'webPubSubServiceOwner'],
  ['webPubSub', 'worker', 'webPubSubServiceOwner'],
  ['registry', 'worker', 'acrPull'],
]
  .map((g) => g.join(' '))
  .sort();

describe('least-privilege role assignments', () => {
  const rolesFile = read('infra/modules/roles.bicep');
  const table = Object.fromEntries(
    [...rolesFile.matchAll(/^[ \t]*\/\/ ([^:\n]+):.*\n[ \t]*(\w+): '([0-9a-f-]{36})'/gm)].map((m) => [
      m[2]!,
      { name: m[1]!, id: m[3]! },
    ]),
  );

  it('roles.bicep names only built-in roles, each commented with its role name', () => {
    expect(Object.keys(table).length).toBe(Object.keys(BUILT_IN_ROLES).length);
    for (const { name, id } of Object.values(table)) expect(BUILT_IN_ROLES[name], `unknown role ${name}`).toBe(id);
  });

  it('no GUID role id appears anywhere but roles.bicep', () => {
    const guid = /'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'/i;
    expect(files.filter((f) => f !== 'infra/modules/roles.bicep' && guid.test(read(f)))).toEqual([]);
  });

  it('every roleAssignments resource takes its role and principal from a typed roleAssignment[] param', () => {
    for (const f of files) {
      const src = read(f);
      for (const r of resources(src).filter((x) => x.type === 'Microsoft.Authorization/roleAssignments')) {
        expect(r.body.text, `${f}:${r.symbol}`).toMatch(
          /roleDefinitionId: subscriptionResourceId\('Microsoft.Authorization\/roleDefinitions', a\.roleDefinitionId\)/,
        );
        expect(r.body.text).toMatch(/principalId: a\.principalId/);
        expect(src).toMatch(/^param roleAssignments roleAssignment\[\] = \[\]$/m);
        expect(src).toMatch(/^import \{ roleAssignment \} from 'roles.bicep'$/m);
      }
    }
  });

  it('grants exactly the expected roles, from roles.bicep, to the app identities or the deployer', () => {
    const grants: string[] = [];
    const strays: string[] = [];
    for (const m of modules(main)) {
      const ra = m.params.find((p) => p.key === 'roleAssignments');
      if (!ra) continue;
      for (const g of ra.value.matchAll(/\{\s*principalId: (\w+), roleDefinitionId: ([\w.]+)/g)) {
        const [principal, role] = [g[1]!, g[2]!];
        if (!['api', 'worker', 'principalId'].includes(principal)) strays.push(`${m.symbol}: principal ${principal}`);
        if (!role.startsWith('roles.') || !(role.slice(6) in table)) strays.push(`${m.symbol}: role ${role}`);
        grants.push(`${m.symbol} ${principal} ${role.replace('roles.', '')}`);
      }
    }
    expect(strays).toEqual([]);
    expect(grants.sort()).toEqual(EXPECTED_GRANTS);
    expect(main).toMatch(/^var api = functionIdentity\.outputs\.principalId$/m);
    expect(main).toMatch(/^var worker = workerIdentity\.outputs\.principalId$/m);
  });

  it('gives each app its own user-assigned identity', () => {
    expect(main).toMatch(/identityId: functionIdentity\.outputs\.id/);
    expect(main).toMatch(/identityId: workerIdentity\.outputs\.id/);
    for (const f of ['infra/modules/function-app.bicep', 'infra/modules/worker-app.bicep']) {
      expect(read(f)).toMatch(/type: 'UserAssigned'/);
      expect(read(f)).not.toMatch(/SystemAssigned/);
    }
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
    ...files,
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

  it('the patterns do catch a keyed connection string', () => {
    const sample = 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc==';
    expect(SECRET_PATTERNS.some(([, re]) => re.test(sample))).toBe(true);
  });
});

describe('azd conventions', () => {
  it('deploys at subscription scope into its own resource group', () => {
    expect(main).toMatch(/^targetScope = 'subscription'$/m);
    expect(main).toMatch(
      /resource rg 'Microsoft.Resources\/resourceGroups@[\d-]+' = \{\n\s+name: 'rg-\$\{environmentName\}'/,
    );
  });

  it('derives names from resourceToken = uniqueString(subscription().id, environmentName, location)', () => {
    expect(main).toMatch(
      /^var resourceToken = toLower\(uniqueString\(subscription\(\)\.id, environmentName, location\)\)$/m,
    );
    expect(main).toMatch(/^var tags = \{ 'azd-env-name': environmentName \}$/m);
  });

  it('tags the deployable resources with azd-service-name matching azure.yaml services', () => {
    expect(read('infra/modules/function-app.bicep')).toMatch(/tags: union\(tags, \{ 'azd-service-name': 'api' \}\)/);
    expect(read('infra/modules/worker-app.bicep')).toMatch(/tags: union\(tags, \{ 'azd-service-name': 'worker' \}\)/);
  });

  it('tags every tracked resource (the ones with a location) and passes tags to every module taking them', () => {
    const untagged = files.flatMap((f) =>
      resources(read(f))
        .filter((r) => /\n\s{2}location: /.test(r.body.text) && !/\n\s{2}tags: /.test(r.body.text))
        .map((r) => `${f}:${r.symbol}`),
    );
    expect(untagged).toEqual([]);
    const notPassed = modules(main)
      .filter(
        (m) =>
          params(read(join('infra', m.path))).some((p) => p.name === 'tags') && !m.params.some((p) => p.key === 'tags'),
      )
      .map((m) => m.symbol);
    expect(notPassed).toEqual([]);
  });

  it('outputs what azd and the README use', () => {
    const outputs = [...main.matchAll(/^output (\w+) string/gm)].map((m) => m[1]);
    for (const o of [
      'AZURE_CONTAINER_REGISTRY_ENDPOINT',
      'AZURE_KEY_VAULT_NAME',
      'FUNCTION_APP_URL',
      'REALTIME_WEBHOOK_URL',
      'STORAGE_TABLE_ENDPOINT',
      'AZURE_RESOURCE_GROUP',
    ])
      expect(outputs).toContain(o);
    expect(main).toMatch(/output REALTIME_WEBHOOK_URL string = '\$\{functionBaseUrl\}\/api\/webhooks\/realtime'/);
  });
});

describe('the architecture as specified', () => {
  const fn = read('infra/modules/function-app.bicep');

  it('runs the Function app on Flex Consumption, Node 20, no always-ready instances, tunable scale', () => {
    expect(fn).toMatch(/sku: \{ tier: 'FlexConsumption', name: 'FC1' \}/);
    expect(fn).toMatch(/runtime: \{ name: 'node', version: nodeVersion \}/);
    expect(main).toMatch(/^param functionNodeVersion string = '20'$/m);
    expect(fn).toMatch(/alwaysReady: \[\]/);
    expect(fn).toMatch(/instanceMemoryMB: instanceMemoryMB/);
    expect(fn).toMatch(/maximumInstanceCount: maximumInstanceCount/);
    expect(fn).toMatch(/type: 'blobContainer'/);
  });

  it('keeps the worker off the internet: internal environment, VNet-integrated Function app', () => {
    expect(read('infra/modules/container-apps-environment.bicep')).toMatch(/internal: true/);
    expect(fn).toMatch(/virtualNetworkSubnetId: subnetId/);
    const worker = read('infra/modules/worker-app.bicep');
    expect(worker).toMatch(/allowInsecure: false/);
    expect(worker).toMatch(/minReplicas: minReplicas/);
    expect(worker).toMatch(/http: \{ metadata: \{ concurrentRequests:/);
  });

  it('deploys gpt-realtime and a small text model', () => {
    expect(main).toMatch(/realtimeModel: \{ name: 'gpt-realtime'/);
    expect(main).toMatch(/textModel: \{ name: 'gpt-4.1-mini'/);
  });

  it('keeps every module next to what it creates (one component per file)', () => {
    const byType = new Map<string, string[]>();
    for (const f of files)
      for (const r of resources(read(f)))
        if (!r.existing && r.type.includes('/') && r.type !== 'Microsoft.Authorization/roleAssignments')
          byType.set(r.type, [...(byType.get(r.type) ?? []), f]);
    const scattered = [...byType].filter(([, fs]) => new Set(fs).size > 1).map(([t]) => t);
    expect(scattered).toEqual([]);
    expect(dirname(files[1]!)).toBe('infra/modules');
  });
});
