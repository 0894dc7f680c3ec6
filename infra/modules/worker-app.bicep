// The sideband worker ("worker"): holds one WebSocket per live session to the realtime service, runs tool calls
// over MCP and reports lifecycle to the Function app. Reachable only inside the virtual network.

@description('Container App name.')
param name string

@description('Azure region.')
param location string

@description('Resource tags (the azd-service-name tag is added here).')
param tags { *: string }

@description('Container Apps environment id.')
param environmentId string

@description('Resource id of the worker user-assigned identity.')
param identityId string

@description('Client id of that identity (AZURE_CLIENT_ID).')
param identityClientId string

@description('Registry login server the image is pulled from with the identity.')
param registryServer string

@description('Image to run; empty before the first azd deploy (a public placeholder runs until then).')
param image string = ''

@description('Minimum replicas: 0 scales to zero when idle (a session arriving then waits for a cold start); 1 keeps one warm.')
@allowed([0, 1])
param minReplicas int

@description('Maximum replicas.')
@minValue(1)
@maxValue(300)
param maxReplicas int = 10

@description('Concurrent HTTP requests per replica before the HTTP scale rule adds one (attach bursts).')
param concurrentRequests int = 50

@description('Live sessions one replica should hold: the sessions scale rule asks for ceil(liveSessions / this) replicas.')
@minValue(1)
param sessionsPerReplica int

@description('vCPU per replica (0.25 steps; memory is twice this in GiB).')
param cpu string = '0.5'

@description('Memory per replica, e.g. 1Gi (2 GiB per vCPU on the Consumption profile).')
param memory string = '1Gi'

@description('Seconds a replica gets after SIGTERM (scale-in, new revision) to drain its live sessions back to the lifecycle for re-attachment elsewhere; the worker needs about 20.')
@minValue(0)
@maxValue(600)
param drainSeconds int = 60

@description('Port the worker listens on.')
param port int = 8080

@description('Application Insights connection string.')
param appInsightsConnectionString string

@description('Azure OpenAI endpoint.')
param realtimeEndpoint string

@description('Realtime model deployment name.')
param realtimeModel string

@description('Text model deployment used for summaries and judging.')
param textModel string

@description('Table Storage endpoint.')
param storageTableEndpoint string

@description('Web PubSub endpoint.')
param webPubSubEndpoint string

@description('Base URL of the Function app (lifecycle callbacks).')
param functionsBaseUrl string

@description('The Function app MCP endpoint, for agents naming the builtin MCP server.')
param mcpBuiltinUrl string

@description('Key Vault secret URI of the worker shared secret.')
param workerAuthSecretUri string

@description('Key Vault secret URI of the host key for the Function app built-in MCP server.')
param mcpBuiltinKeyUri string

@description('Prices per model as JSON, merged over the defaults in shared/cost/prices.ts; empty keeps the defaults.')
param priceTable string = ''

@description('USD a call may cost before it is logged and counted as a cost alert; empty: no alert.')
param costAlertUsd string = ''

// Exactly the settings shared/config reads for the worker (WORKER_SETTINGS); test/infra/config-contract.test.ts
// fails on drift. Secrets are Container App secrets backed by Key Vault, exposed through secretRef.
var plainSettings = {
  STORAGE_TABLE_ENDPOINT: storageTableEndpoint
  REALTIME_PROVIDER: 'azure-openai'
  REALTIME_ENDPOINT: realtimeEndpoint
  REALTIME_MODEL: realtimeModel
  REALTIME_API_VERSION: '2025-10-01'
  AZURE_CLIENT_ID: identityClientId
  WEBPUBSUB_ENDPOINT: webPubSubEndpoint
  WEBPUBSUB_HUB: 'sessions'
  TEXT_MODEL: textModel
  JUDGE_MODEL: textModel
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsightsConnectionString
  OTEL_EXPORTER: 'none'
  LOG_TRANSCRIPTS: 'false'
  PORT: string(port)
  LISTEN_HOST: '0.0.0.0'
  FUNCTIONS_BASE_URL: functionsBaseUrl
  MCP_BUILTIN_URL: mcpBuiltinUrl
  HEARTBEAT_INTERVAL_SECONDS: '5'
  MCP_TOOL_TIMEOUT_MS: '8000'
  MCP_MANAGED_IDENTITY_SCOPES: ''
  MCP_ALLOW_LOOPBACK_URLS: 'false'
  MCP_TOOL_CALLS_PER_SESSION: '40'
  DEBUG_TOOL_OUTPUT_TO_PAGE: 'false'
  MAX_SESSIONS: '5000'
  // Conversation memory seeded into a resumed session: token budget and earlier-message cap.
  MEMORY_SEED_TOKENS: '2000'
  MEMORY_SEED_TURNS: '20'
  // What a call costs (session row, page, voice.session.cost) and when one is reported as expensive.
  PRICE_TABLE: priceTable
  COST_ALERT_USD: costAlertUsd
}

var secretSettings = {
  WORKER_AUTH_SECRET: 'worker-auth-secret'
  MCP_BUILTIN_KEY: 'mcp-builtin-key'
}

resource app 'Microsoft.App/containerApps@2026-07-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'worker' })
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      ingress: {
        // The environment is internal (no public IP), so "external" here means reachable from the virtual
        // network (the Function app), never from the internet.
        external: true
        targetPort: port
        transport: 'http'
        allowInsecure: false
      }
      registries: [{ server: registryServer, identity: identityId }]
      secrets: [
        { name: 'worker-auth-secret', keyVaultUrl: workerAuthSecretUri, identity: identityId }
        { name: 'mcp-builtin-key', keyVaultUrl: mcpBuiltinKeyUri, identity: identityId }
      ]
    }
    template: {
      terminationGracePeriodSeconds: drainSeconds
      containers: [
        {
          name: 'worker'
          image: empty(image) ? 'mcr.microsoft.com/k8se/quickstart:latest' : image
          resources: { cpu: json(cpu), memory: memory }
          env: concat(
            map(items(plainSettings), s => { name: s.key, value: s.value }),
            map(items(secretSettings), s => { name: s.key, secretRef: s.value })
          )
          // The placeholder image does not serve the worker's health route; probe only the real image.
          probes: empty(image) ? [] : [
            // Liveness: the process answers. Readiness: it takes attaches (false while draining).
            { type: 'Liveness', httpGet: { path: '/healthz', port: port }, periodSeconds: 10, failureThreshold: 3 }
            { type: 'Readiness', httpGet: { path: '/readyz', port: port }, periodSeconds: 5, failureThreshold: 2 }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        // Seconds between reads of the scale signal; scale-in waits out the cooldown after the signal drops.
        pollingInterval: 15
        cooldownPeriod: 300
        // The fleet scales on the larger of the two: sessions held (the load: held sockets make almost no HTTP
        // traffic) and attach requests in flight (a burst of new calls). A scale-in keeps ceil(live / per-replica)
        // replicas; the one stopped drains its calls back to the lifecycle within drainSeconds.
        rules: [
          {
            name: 'live-sessions'
            custom: {
              type: 'metrics-api'
              metadata: {
                url: '${functionsBaseUrl}/api/internal/scale'
                valueLocation: 'liveSessions'
                targetValue: string(sessionsPerReplica)
                authMode: 'bearer'
              }
              // The same shared secret as every other internal route, from the Key Vault-backed app secret.
              auth: [{ secretRef: 'worker-auth-secret', triggerParameter: 'token' }]
            }
          }
          { name: 'http', http: { metadata: { concurrentRequests: string(concurrentRequests) } } }
        ]
      }
    }
  }
}

output name string = app.name
output fqdn string = app.properties.configuration.ingress.fqdn
