// Key Vault (RBAC mode) holding the two app secrets: the Standard Webhooks secret(s) the realtime service signs
// webhooks with, and the shared secret between the Function app and the worker. Apps read them through Key Vault
// references with their managed identity; nothing else ever sees the values.

import { roleAssignment } from 'roles.bicep'

@description('Key Vault name (3-24 characters).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags object

@secure()
@description('Webhook signing secret(s) (whsec_..., comma separated during rotation). Empty: no secret is stored and webhooks are refused until one is set.')
param webhookSecrets string = ''

@secure()
@description('Seed of the shared secret authenticating Function app <-> worker calls (azd-generated, 15+ characters).')
@minLength(12)
param workerAuthSeed string

@secure()
@description('Seed of the host key the worker presents to the Function app built-in MCP server (function-level route).')
@minLength(12)
param mcpKeySeed string

@description('Role assignments on the vault.')
param roleAssignments roleAssignment[] = []

// azd's secretOrRandomPassword makes 15 characters; the apps get a deterministic 41-character stretch of it, so
// every provision writes the same value and shared/config's 16-character minimum always holds.
func stretch(seed string) string => '${seed}${uniqueString(seed)}${uniqueString(seed, 'stretch')}'

// Only whether a webhook secret was given leaves this module, never the value.
var hasWebhookSecret = !empty(webhookSecrets)

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'standard' }
    // Access by Azure RBAC only (no access policies), so Key Vault Secrets User is the whole grant.
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    publicNetworkAccess: 'Enabled'
  }

  resource webhookSecret 'secrets' = if (hasWebhookSecret) {
    name: 'webhook-secrets'
    properties: { value: webhookSecrets, contentType: 'text/plain' }
  }

  // The seeds are kept so azd's secretOrRandomPassword reads the same ones back on the next provision.
  resource workerSeed 'secrets' = {
    name: 'worker-auth-seed'
    properties: { value: workerAuthSeed, contentType: 'text/plain' }
  }

  resource workerSecret 'secrets' = {
    name: 'worker-auth-secret'
    properties: { value: stretch(workerAuthSeed), contentType: 'text/plain' }
  }

  resource mcpSeed 'secrets' = {
    name: 'mcp-builtin-key-seed'
    properties: { value: mcpKeySeed, contentType: 'text/plain' }
  }

  // Installed as a host key on the Function app by the api postdeploy hook (infra/hooks/postdeploy-api.ts).
  resource mcpKey 'secrets' = {
    name: 'mcp-builtin-key'
    properties: { value: stretch(mcpKeySeed), contentType: 'text/plain' }
  }
}

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in roleAssignments: {
    name: guid(vault.id, a.principalId, a.roleDefinitionId)
    scope: vault
    properties: {
      principalId: a.principalId
      principalType: a.?principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]

output name string = vault.name
output uri string = vault.properties.vaultUri
// Versionless URIs: Key Vault references follow rotation without a redeploy.
output webhookSecretsUri string = !hasWebhookSecret ? '' : '${vault.properties.vaultUri}secrets/webhook-secrets'
output workerAuthSecretUri string = '${vault.properties.vaultUri}secrets/worker-auth-secret'
output mcpBuiltinKeyUri string = '${vault.properties.vaultUri}secrets/mcp-builtin-key'
