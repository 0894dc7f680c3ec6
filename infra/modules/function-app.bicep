// The Function app ("api"): HTTP API, webhooks, MCP server and the Durable entity per session, on Flex
// Consumption (scales to zero, per-execution billing). Identity-based everything: host storage, the deployment
// package, Durable task hub, App Insights ingestion, Key Vault references.

@description('Function app name.')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Resource tags (the azd-service-name tag is added here).')
param tags { *: string }

@description('Resource id of the Function app user-assigned identity.')
param identityId string

@description('Client id of that identity (AzureWebJobsStorage__clientId, AZURE_CLIENT_ID, App Insights auth).')
param identityClientId string

@description('Subnet for outbound VNet integration (reaches the internal worker).')
param subnetId string

@description('Storage account for the host, Durable task hub and deployment package.')
param storageAccountName string

@description('Blob container URL Flex Consumption deploys the package from.')
param deploymentContainerUrl string

@description('Node.js major version on Flex Consumption. 20 matches the build target; Node 20 left upstream support on 2026-04-30, so move to 22 when the runtime allows.')
@allowed(['20', '22'])
param nodeVersion string = '20'

@description('Instance memory: 512, 2048 or 4096 MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

@description('Upper bound on instances: caps cost under a burst.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Durable Functions task hub name (host.json reads %DURABLE_TASK_HUB%); with the scheduler backend, the name of its task hub.')
param durableTaskHub string

@description('Durable backend: storage (the Azure Storage provider on the app\'s storage account) or dts (Durable Task Scheduler).')
@allowed(['storage', 'dts'])
param durableBackend string

@description('Durable Task Scheduler endpoint (https://...durabletask.io); empty with the storage backend.')
param durableSchedulerEndpoint string

@description('Always-ready instances of the `durable` function group (orchestrators, entities, activities): 1 keeps the lifecycle warm so the first call after idle does not wait for a cold start; 0 bills nothing at idle.')
@minValue(0)
@maxValue(10)
param durableAlwaysReady int

@description('private: route all outbound traffic through the virtual network so host storage, Key Vault references and the app reach the private endpoints; open: only private-range traffic (the worker) goes through it.')
@allowed(['private', 'open'])
param networkAccess string

@description('Entra app registration (client id) App Service Authentication validates tokens for, when authMode is easyauth; empty uses entraAudience (which must then be the client id).')
param entraClientId string

@description('Application Insights connection string (identifies the component; auth is Entra).')
param appInsightsConnectionString string

@description('Azure OpenAI endpoint, https://{resource}.openai.azure.com.')
param realtimeEndpoint string

@description('Realtime model deployment name.')
param realtimeModel string

@description('Text model deployment used for summaries and judging.')
param textModel string

@description('Table Storage endpoint.')
param storageTableEndpoint string

@description('Web PubSub endpoint.')
param webPubSubEndpoint string

@description('How POST /api/sessions callers are authenticated (entra or easyauth; dev is local only).')
@allowed(['entra', 'easyauth'])
param authMode string

@description('Audience (application id URI or client id) of the tokens callers present.')
param entraAudience string

@description('Browser origins allowed by the API CORS handler (comma separated).')
param corsAllowedOrigins string

@description('Base URL of the worker internal API.')
param workerUrl string

@description('Key Vault secret URI of the webhook secret(s); empty when none is configured yet.')
// The secret's address, not its value (the value stays in Key Vault); @secure() would hide it from what-if.
#disable-next-line secure-secrets-in-params
param webhookSecretsUri string

@description('Key Vault secret URI of the worker shared secret.')
param workerAuthSecretUri string

@description('Key Vault secret URI of the built-in MCP server host key.')
param mcpBuiltinKeyUri string

func kvRef(uri string) string => '@Microsoft.KeyVault(SecretUri=${uri})'

// Exactly the settings shared/config reads for the Function app (FUNCTIONS_SETTINGS), plus the documented host
// settings. test/infra/config-contract.test.ts fails on any drift in either direction.
var appSettings = {
  // --- Functions host (not read by shared/config) ---
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  DURABLE_TASK_HUB: durableTaskHub
  // host.json names the Azure Storage provider; these override it per deployment (the host reads app settings
  // named AzureFunctionsJobHost__<path> as host.json values), so one package serves both backends.
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: durableBackend == 'dts'
    ? 'azureManaged'
    : 'AzureStorage'
  AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName: durableBackend == 'dts'
    ? 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
    : 'AzureWebJobsStorage'
  // Identity-based: the scheduler takes no keys.
  DURABLE_TASK_SCHEDULER_CONNECTION_STRING: durableBackend == 'dts'
    ? 'Endpoint=${durableSchedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}'
    : ''
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
  // --- shared/config: common ---
  STORAGE_TABLE_ENDPOINT: storageTableEndpoint
  REALTIME_PROVIDER: 'azure-openai'
  REALTIME_ENDPOINT: realtimeEndpoint
  REALTIME_MODEL: realtimeModel
  REALTIME_API_VERSION: '2025-10-01'
  AZURE_CLIENT_ID: identityClientId
  WORKER_AUTH_SECRET: kvRef(workerAuthSecretUri)
  WEBPUBSUB_ENDPOINT: webPubSubEndpoint
  WEBPUBSUB_HUB: 'sessions'
  TEXT_MODEL: textModel
  JUDGE_MODEL: textModel
  // Each judgement is a model call: score a sample of sessions (1 = all) to keep cost in step with traffic.
  JUDGE_SAMPLE_RATE: '1'
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  OTEL_EXPORTER: 'none'
  LOG_TRANSCRIPTS: 'false'
  // The app's own MCP server, for agents that name the `builtin` server (tools run in the Function app too).
  MCP_BUILTIN_URL: 'https://${app.properties.defaultHostName}/api/mcp'
  MCP_TOOL_TIMEOUT_MS: '8000'
  MCP_MANAGED_IDENTITY_SCOPES: ''
  MCP_ALLOW_LOOPBACK_URLS: 'false'
  MCP_BUILTIN_KEY: kvRef(mcpBuiltinKeyUri)
  // --- shared/config: Function app ---
  AUTH_MODE: authMode
  ENTRA_TENANT_ID: tenant().tenantId
  ENTRA_AUDIENCE: entraAudience
  // The delegated scope the API's app registration exposes; app-only callers need an app role listed here.
  ENTRA_SCOPES: 'access_as_user'
  ENTRA_APP_ROLES: ''
  // The app role for /api/operator/* (define it in the API's app registration and assign it to operators).
  OPERATOR_APP_ROLE: 'Voice.Operator'
  DEV_OPERATOR_USERS: ''
  // Empty until a webhook secret is configured: the webhook endpoint then refuses every delivery.
  WEBHOOK_SECRETS: empty(webhookSecretsUri) ? '' : kvRef(webhookSecretsUri)
  CORS_ALLOWED_ORIGINS: corsAllowedOrigins
  SESSION_TOKEN_TTL_SECONDS: '60'
  RATE_LIMIT_PER_MINUTE: '30'
  DAILY_MINUTES_PER_USER: '120'
  // memory: per instance (the limit multiplies with instances); table: one counter shared by all instances.
  RATE_LIMIT_STORE: 'memory'
  MAX_BODY_BYTES: '65536'
  WORKER_URL: workerUrl
  LIFECYCLE_MODE: 'durable'
  HEARTBEAT_TIMEOUT_SECONDS: '15'
  MAX_REATTACH_ATTEMPTS: '3'
  HISTORY_RETENTION_DAYS: '30'
  RESUME_WINDOW_SECONDS: '120'
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    virtualNetworkSubnetId: subnetId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      // Open: only private-range traffic (the worker's internal load balancer) goes through the VNet. Private:
      // everything does, so storage, Key Vault references and the app's own calls reach the private endpoints.
      vnetRouteAllEnabled: networkAccess == 'private'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: { type: 'UserAssignedIdentity', userAssignedIdentityResourceId: identityId }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
        // The `durable` group (orchestrators, entities, activities) kept warm per Microsoft's Flex guidance for
        // Durable Functions; HTTP functions still scale from zero.
        alwaysReady: durableAlwaysReady > 0 ? [{ name: 'durable', instanceCount: durableAlwaysReady }] : []
      }
      // Flex Consumption takes the runtime here, not from FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION
      // (both are rejected as app settings on this plan).
      runtime: { name: 'node', version: nodeVersion }
    }
  }

  resource settings 'config' = {
    name: 'appsettings'
    properties: appSettings
  }

  // App Service Authentication, on only for AUTH_MODE=easyauth: the platform validates the Entra token and is then
  // the only source of x-ms-client-principal (it drops the header from incoming requests). Off otherwise, so the
  // app (AUTH_MODE=entra) validates tokens itself. Webhooks (signed), worker routes (shared secret), the MCP
  // server (host key) and health carry no Entra token and are excluded.
  resource auth 'config' = {
    name: 'authsettingsV2'
    properties: {
      platform: { enabled: authMode == 'easyauth' }
      globalValidation: {
        requireAuthentication: true
        unauthenticatedClientAction: 'Return401'
        excludedPaths: ['/api/health', '/api/webhooks/*', '/api/internal/*', '/api/mcp']
      }
      identityProviders: {
        azureActiveDirectory: {
          enabled: true
          registration: {
            openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
            clientId: empty(entraClientId) ? entraAudience : entraClientId
          }
          validation: { allowedAudiences: [entraAudience] }
        }
      }
      login: { tokenStore: { enabled: false } }
      httpSettings: { requireHttps: true }
    }
  }

  // Keyless deployment too: no publishing user/password; azd deploys with Entra.
  resource scmBasicAuth 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: { allow: false }
  }
  resource ftpBasicAuth 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: { allow: false }
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
