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
param tags object

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

@description('Durable Functions task hub name (host.json reads %DURABLE_TASK_HUB%).')
param durableTaskHub string

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
  // Empty until a webhook secret is configured: the webhook endpoint then refuses every delivery.
  WEBHOOK_SECRETS: empty(webhookSecretsUri) ? '' : kvRef(webhookSecretsUri)
  CORS_ALLOWED_ORIGINS: corsAllowedOrigins
  SESSION_TOKEN_TTL_SECONDS: '60'
  RATE_LIMIT_PER_MINUTE: '30'
  MAX_BODY_BYTES: '65536'
  WORKER_URL: workerUrl
  LIFECYCLE_MODE: 'durable'
  HEARTBEAT_TIMEOUT_SECONDS: '15'
  MAX_REATTACH_ATTEMPTS: '3'
  HISTORY_RETENTION_DAYS: '30'
  RESUME_WINDOW_SECONDS: '120'
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-04-01' = {
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
      // Only private-range traffic (the worker's internal load balancer) goes through the VNet; Azure service
      // endpoints stay on the platform's outbound path, so no NAT gateway is needed.
      vnetRouteAllEnabled: false
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
        // No always-ready instances: nothing is billed at idle; the first request pays a cold start.
        alwaysReady: []
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
