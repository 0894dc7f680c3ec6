// Real-time voice agents on Azure: everything `azd up` deploys, keyless. One module per component of the
// architecture; this file wires them together, names them and grants each identity only what it uses.
//
//   browser/phone ──WebRTC/SIP──▶ Azure OpenAI realtime (ai-services)
//        │                               ▲  ▲ webhooks
//        ▼                               │  │
//   Function app "api" (function-app) ───┘  │ sideband WebSocket
//        │  Durable entity per session      │
//        ├──VNet (network, private-dns)──▶ worker Container App (container-apps-environment, worker-app)
//        ├── Table Storage + task hub (storage)      ├── MCP tools
//        ├── Web PubSub push (web-pubsub)            └── image from container-registry
//        └── secrets (key-vault), telemetry (monitoring), identities (identity)

targetScope = 'subscription'

import { roles } from 'modules/roles.bicep'

@description('azd environment name; prefixes the resource group and tags every resource (azd-env-name).')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Primary region for all resources.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Region of the AI Services account: one with gpt-realtime GlobalStandard capacity.')
@allowed(['eastus2', 'swedencentral'])
param aiLocation string = 'eastus2'

@description('Object id of the deploying user or service principal: granted table access so the postprovision hook can seed agents, and secret read so azd can reuse the generated worker secret.')
param principalId string = ''

@description('Type of principalId: User for `azd up` from a workstation, ServicePrincipal in CI.')
@allowed(['User', 'ServicePrincipal'])
param principalType string = 'User'

@description('Audience (application id URI or client id) of the Entra tokens callers of POST /api/sessions present.')
@minLength(1)
param entraAudience string

@description('How the API authenticates callers: entra validates bearer tokens itself; easyauth trusts App Service Authentication headers.')
@allowed(['entra', 'easyauth'])
param authMode string = 'entra'

@description('Browser origins allowed to call the API (comma separated); empty allows none.')
param corsAllowedOrigins string = ''

@secure()
@description('Webhook signing secret(s) from the realtime service webhook settings (whsec_..., comma separated during rotation). Empty until the webhook is configured.')
param webhookSecrets string = ''

@secure()
@description('Random seed of the Function app <-> worker shared secret: azd generates it once (secretOrRandomPassword) and reads it back from Key Vault on every later provision, so the secret stays stable.')
@minLength(12)
param workerAuthSeed string

@secure()
@description('Random seed of the host key guarding the built-in MCP server (/api/mcp is a function-level route); kept in Key Vault like the worker seed.')
@minLength(12)
param mcpKeySeed string

@description('Node.js major version of the Function app (20 = the project build target; 22 once you move past Node 20 end of support).')
@allowed(['20', '22'])
param functionNodeVersion string = '20'

@description('Flex Consumption instance memory in MB.')
@allowed([512, 2048, 4096])
param functionInstanceMemoryMB int = 2048

@description('Flex Consumption maximum instance count: the cost ceiling under a burst.')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 100

@description('Worker minimum replicas: 0 scales to zero only when no session is live (the sessions rule holds the rest), 1 keeps one replica warm so an attach never waits for a cold start.')
@allowed([0, 1])
param workerMinReplicas int = 1

@description('Live sessions per worker replica: the worker fleet scales to ceil(liveSessions / this), read from the Function app\'s GET /api/internal/scale.')
@minValue(1)
@maxValue(5000)
param workerSessionsPerReplica int = 200

@description('Worker maximum replicas.')
@minValue(1)
@maxValue(300)
param workerMaxReplicas int = 10

@description('Worker image; azd sets SERVICE_WORKER_IMAGE_NAME after a deploy from this machine.')
param workerImageName string = ''

@description('Whether the worker Container App exists already (azd sets SERVICE_WORKER_RESOURCE_EXISTS); its running image is then kept.')
param workerExists bool = false

@description('Always-ready instances for the Function app\'s `durable` group: 1 (Microsoft\'s guidance for Durable on Flex) keeps orchestrators and entities warm; 0 is the cheapest set-up (the first call after idle waits for a cold start).')
@minValue(0)
@maxValue(10)
param durableAlwaysReady int = 1

@description('Durable backend: storage (Azure Storage provider on the app\'s account, ~nothing at idle) or dts (Durable Task Scheduler, Consumption SKU).')
@allowed(['storage', 'dts'])
param durableBackend string = 'storage'

@description('private: Storage, Key Vault and the registry take traffic only from the virtual network (private endpoints), trusted Azure services and allowedClientIps; open: their public endpoints stay open for development (Entra RBAC still applies, keys stay off).')
@allowed(['private', 'open'])
param networkAccess string = 'private'

@description('Public IPs or CIDR ranges (comma separated) let through the firewalls in private mode: the workstation or runner that runs azd (seed read-back, table seeding, build upload).')
param allowedClientIps string = ''

@description('Client id of the Entra app registration App Service Authentication validates tokens for (authMode easyauth); empty uses entraAudience.')
param entraClientId string = ''

@description('Web PubSub tier: Free_F1 costs nothing (20 concurrent connections); Standard_S1 for production load.')
@allowed(['Free_F1', 'Standard_S1'])
param webPubSubSku string = 'Free_F1'

@description('Realtime model deployment capacity (thousands of tokens per minute).')
@minValue(1)
param realtimeCapacity int = 10

@description('Text model deployment capacity (thousands of tokens per minute).')
@minValue(1)
param textModelCapacity int = 50

var tags = { 'azd-env-name': environmentName }
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var functionAppName = 'func-${resourceToken}'
var workerAppName = 'ca-worker-${resourceToken}'
var durableTaskHub = 'voiceagents'
var allowedIps = filter(map(split(allowedClientIps, ','), ip => trim(ip)), ip => !empty(ip))
var isPrivate = networkAccess == 'private'
// The tables the worker uses, and how: it reads agent definitions and writes sessions, history, tool runs and
// call claims (one call belongs to one session).
var workerTables = { agents: 'read', sessions: 'write', history: 'write', toolruns: 'write', calls: 'write' }
var appTables = [
  'sessions'
  'history'
  'agents'
  'webhookdeliveries'
  'ratelimits'
  'orders'
  'tickets'
  'knowledge'
  'scores'
  'toolruns'
  'calls'
  'operatoraudit'
]

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

// ---- identities: one per app ----
module functionIdentity 'modules/identity.bicep' = {
  scope: rg
  name: 'function-identity'
  params: { name: 'id-api-${resourceToken}', location: location, tags: tags }
}

module workerIdentity 'modules/identity.bicep' = {
  scope: rg
  name: 'worker-identity'
  params: { name: 'id-worker-${resourceToken}', location: location, tags: tags }
}

var api = functionIdentity.outputs.principalId
var worker = workerIdentity.outputs.principalId
var sp = 'ServicePrincipal'

// ---- observability ----
var appInsightsName = 'appi-${resourceToken}'
module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    appInsightsName: appInsightsName
    location: location
    tags: tags
    roleAssignments: [
      { principalId: api, roleDefinitionId: roles.monitoringMetricsPublisher, principalType: sp }
      { principalId: worker, roleDefinitionId: roles.monitoringMetricsPublisher, principalType: sp }
    ]
  }
}

// The operator's view of live sessions, latency, tools, judge scores and cost (the app's metrics).
module workbook 'modules/workbook.bicep' = {
  scope: rg
  name: 'workbook'
  params: {
    location: location
    tags: tags
    // The name, known before deployment (what-if can then predict the workbook); created after the component.
    appInsightsName: appInsightsName
  }
  dependsOn: [monitoring]
}

// ---- data: tables, Durable task hub, deployment package ----
module storage 'modules/storage.bicep' = {
  scope: rg
  name: 'storage'
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: 'app-package'
    networkAccess: networkAccess
    allowedIps: allowedIps
    tables: appTables
    tableRoleAssignments: map(items(workerTables), t => {
      table: t.key
      principalId: worker
      roleDefinitionId: t.value == 'read' ? roles.storageTableDataReader : roles.storageTableDataContributor
      principalType: sp
    })
    roleAssignments: concat(
      [
        { principalId: api, roleDefinitionId: roles.storageTableDataContributor, principalType: sp }
        { principalId: api, roleDefinitionId: roles.storageBlobDataOwner, principalType: sp }
        { principalId: api, roleDefinitionId: roles.storageQueueDataContributor, principalType: sp }
      ],
      empty(principalId)
        ? []
        : [{ principalId: principalId, roleDefinitionId: roles.storageTableDataContributor, principalType: principalType }]
    )
  }
}

// ---- secrets ----
module keyVault 'modules/key-vault.bicep' = {
  scope: rg
  name: 'key-vault'
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    webhookSecrets: webhookSecrets
    workerAuthSeed: workerAuthSeed
    mcpKeySeed: mcpKeySeed
    networkAccess: networkAccess
    allowedIps: allowedIps
    // Each identity reads only the secrets it uses; the deployer reads the seeds back (secretOrRandomPassword)
    // and the host key the postdeploy hook installs.
    secretRoleAssignments: concat(
      map(['worker-auth-secret', 'mcp-builtin-key'], name => {
        secret: name
        principalId: api
        roleDefinitionId: roles.keyVaultSecretsUser
        principalType: sp
      }),
      empty(webhookSecrets)
        ? []
        : [{ secret: 'webhook-secrets', principalId: api, roleDefinitionId: roles.keyVaultSecretsUser, principalType: sp }],
      map(['worker-auth-secret', 'mcp-builtin-key'], name => {
        secret: name
        principalId: worker
        roleDefinitionId: roles.keyVaultSecretsUser
        principalType: sp
      }),
      empty(principalId)
        ? []
        : map(['worker-auth-seed', 'mcp-builtin-key-seed', 'mcp-builtin-key'], name => {
            secret: name
            principalId: principalId
            roleDefinitionId: roles.keyVaultSecretsUser
            principalType: principalType
          })
    )
  }
}

// ---- models ----
module ai 'modules/ai-services.bicep' = {
  scope: rg
  name: 'ai-services'
  params: {
    name: 'ai-${resourceToken}'
    location: aiLocation
    tags: tags
    realtimeModel: { name: 'gpt-realtime', version: '2025-08-28', capacity: realtimeCapacity }
    textModel: { name: 'gpt-4.1-mini', version: '2025-04-14', capacity: textModelCapacity }
    roleAssignments: [
      { principalId: api, roleDefinitionId: roles.cognitiveServicesOpenAIUser, principalType: sp }
      { principalId: worker, roleDefinitionId: roles.cognitiveServicesOpenAIUser, principalType: sp }
    ]
  }
}

// ---- push to browsers ----
module webPubSub 'modules/web-pubsub.bicep' = {
  scope: rg
  name: 'web-pubsub'
  params: {
    name: 'wps-${resourceToken}'
    location: location
    tags: tags
    sku: webPubSubSku
    roleAssignments: [
      { principalId: api, roleDefinitionId: roles.webPubSubServiceOwner, principalType: sp }
      { principalId: worker, roleDefinitionId: roles.webPubSubServiceOwner, principalType: sp }
    ]
  }
}

// ---- worker image ----
module registry 'modules/container-registry.bicep' = {
  scope: rg
  name: 'container-registry'
  params: {
    name: 'cr${resourceToken}'
    location: location
    tags: tags
    networkAccess: networkAccess
    allowedIps: allowedIps
    roleAssignments: [
      { principalId: worker, roleDefinitionId: roles.acrPull, principalType: sp }
    ]
  }
}

// ---- network: Function app -> internal worker ----
module network 'modules/network.bicep' = {
  scope: rg
  name: 'network'
  params: { name: 'vnet-${resourceToken}', location: location, tags: tags }
}

// Private mode: the apps reach Storage, Key Vault and the registry through private endpoints in the VNet.
var privateEndpoints = [
  { groupId: 'blob', zone: 'privatelink.blob.${environment().suffixes.storage}' }
  { groupId: 'queue', zone: 'privatelink.queue.${environment().suffixes.storage}' }
  { groupId: 'table', zone: 'privatelink.table.${environment().suffixes.storage}' }
  { groupId: 'vault', zone: 'privatelink.vaultcore.azure.net' }
  { groupId: 'registry', zone: 'privatelink${environment().suffixes.acrLoginServer}' }
]

module endpoints 'modules/private-endpoint.bicep' = [
  for e in (isPrivate ? privateEndpoints : []): {
    scope: rg
    name: 'private-endpoint-${e.groupId}'
    params: {
      name: 'pe-${e.groupId}-${resourceToken}'
      location: location
      tags: tags
      subnetId: network.outputs.privateEndpointsSubnetId
      vnetId: network.outputs.id
      serviceId: e.groupId == 'vault'
        ? keyVault.outputs.id
        : e.groupId == 'registry' ? registry.outputs.id : storage.outputs.id
      groupId: e.groupId
      zoneName: e.zone
    }
  }
]

// ---- Durable backend (dts): the scheduler and its task hub ----
module scheduler 'modules/durable-task-scheduler.bicep' = if (durableBackend == 'dts') {
  scope: rg
  name: 'durable-task-scheduler'
  params: {
    name: 'dts-${resourceToken}'
    location: location
    tags: tags
    taskHubName: durableTaskHub
    roleAssignments: [
      { principalId: api, roleDefinitionId: roles.durableTaskDataContributor, principalType: sp }
    ]
  }
}

module containerAppsEnvironment 'modules/container-apps-environment.bicep' = {
  scope: rg
  name: 'container-apps-environment'
  params: {
    name: 'cae-${resourceToken}'
    location: location
    tags: tags
    subnetId: network.outputs.containerAppsSubnetId
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
  }
}

module privateDns 'modules/private-dns.bicep' = {
  scope: rg
  name: 'private-dns'
  params: {
    // The zone is the environment's default domain, which exists only once the environment does: what-if
    // cannot predict this zone, and nothing else depends on that prediction.
    #disable-next-line what-if-short-circuiting
    zoneName: containerAppsEnvironment.outputs.defaultDomain
    staticIp: containerAppsEnvironment.outputs.staticIp
    vnetId: network.outputs.id
    tags: tags
  }
}

// Known before either app exists, which breaks the api <-> worker URL cycle.
var workerUrl = 'https://${workerAppName}.${containerAppsEnvironment.outputs.defaultDomain}'

// ---- the apps ----
module functionApp 'modules/function-app.bicep' = {
  scope: rg
  name: 'function-app'
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: functionIdentity.outputs.id
    identityClientId: functionIdentity.outputs.clientId
    subnetId: network.outputs.functionsSubnetId
    storageAccountName: storage.outputs.name
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    nodeVersion: functionNodeVersion
    instanceMemoryMB: functionInstanceMemoryMB
    maximumInstanceCount: functionMaximumInstanceCount
    durableTaskHub: durableTaskHub
    durableBackend: durableBackend
    durableSchedulerEndpoint: scheduler.?outputs.?endpoint ?? ''
    durableAlwaysReady: durableAlwaysReady
    networkAccess: networkAccess
    entraClientId: entraClientId
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    realtimeEndpoint: ai.outputs.openAiEndpoint
    realtimeModel: ai.outputs.realtimeDeployment
    textModel: ai.outputs.textDeployment
    storageTableEndpoint: storage.outputs.tableEndpoint
    webPubSubEndpoint: webPubSub.outputs.endpoint
    authMode: authMode
    entraAudience: entraAudience
    corsAllowedOrigins: corsAllowedOrigins
    workerUrl: workerUrl
    webhookSecretsUri: keyVault.outputs.webhookSecretsUri
    workerAuthSecretUri: keyVault.outputs.workerAuthSecretUri
    mcpBuiltinKeyUri: keyVault.outputs.mcpBuiltinKeyUri
  }
  // Storage and Key Vault outputs above already order it after their role assignments (a module's outputs
  // exist once all of it is deployed); the worker's name must also resolve before the app starts calling it.
  dependsOn: [privateDns, endpoints]
}

var functionBaseUrl = 'https://${functionApp.outputs.defaultHostName}'

// A fresh environment (CI) knows no image name: keep whatever the worker runs now rather than the placeholder.
module workerImage 'modules/worker-image.bicep' = {
  scope: rg
  name: 'worker-image'
  params: { name: workerAppName, exists: workerExists }
}

module workerApp 'modules/worker-app.bicep' = {
  scope: rg
  name: 'worker-app'
  params: {
    name: workerAppName
    location: location
    tags: tags
    environmentId: containerAppsEnvironment.outputs.id
    identityId: workerIdentity.outputs.id
    identityClientId: workerIdentity.outputs.clientId
    registryServer: registry.outputs.loginServer
    image: !empty(workerImageName) ? workerImageName : workerImage.outputs.image
    minReplicas: workerMinReplicas
    sessionsPerReplica: workerSessionsPerReplica
    maxReplicas: workerMaxReplicas
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    realtimeEndpoint: ai.outputs.openAiEndpoint
    realtimeModel: ai.outputs.realtimeDeployment
    textModel: ai.outputs.textDeployment
    storageTableEndpoint: storage.outputs.tableEndpoint
    webPubSubEndpoint: webPubSub.outputs.endpoint
    functionsBaseUrl: functionBaseUrl
    mcpBuiltinUrl: '${functionBaseUrl}/api/mcp'
    workerAuthSecretUri: keyVault.outputs.workerAuthSecretUri
    mcpBuiltinKeyUri: keyVault.outputs.mcpBuiltinKeyUri
  }
  // AcrPull and Key Vault Secrets User are granted before this runs: it reads outputs of the modules that grant them.
}

// ---- outputs: azd writes these into .azure/<env>/.env ----
output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_CONTAINER_REGISTRY_ENDPOINT string = registry.outputs.loginServer
output AZURE_CONTAINER_REGISTRY_NAME string = registry.outputs.name
output AZURE_CONTAINER_APPS_ENVIRONMENT_NAME string = containerAppsEnvironment.outputs.name
output AZURE_KEY_VAULT_NAME string = keyVault.outputs.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output FUNCTION_APP_URL string = functionBaseUrl
output API_BASE_URL string = '${functionBaseUrl}/api'
output REALTIME_WEBHOOK_URL string = '${functionBaseUrl}/api/webhooks/realtime'
output MCP_SERVER_URL string = '${functionBaseUrl}/api/mcp'
output WORKER_INTERNAL_URL string = workerUrl
output REALTIME_ENDPOINT string = ai.outputs.openAiEndpoint
output STORAGE_TABLE_ENDPOINT string = storage.outputs.tableEndpoint
output WEBPUBSUB_ENDPOINT string = webPubSub.outputs.endpoint
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName
