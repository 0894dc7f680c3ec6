// Key Vault (RBAC mode) holding the two app secrets: the Standard Webhooks secret(s) the realtime service signs
// webhooks with, and the shared secret between the Function app and the worker. Apps read them through Key Vault
// references with their managed identity; nothing else ever sees the values.

@description('A role assignment on one secret of the vault.')
type secretRoleAssignment = {
  @description('Secret name.')
  secret: 'webhook-secrets' | 'worker-auth-seed' | 'worker-auth-secret' | 'mcp-builtin-key-seed' | 'mcp-builtin-key'
  @description('Object id of the principal.')
  principalId: string
  @description('A value from `roles`.')
  roleDefinitionId: string
  @description('Principal type; set for managed identities so ARM does not wait on directory replication.')
  principalType: ('ServicePrincipal' | 'User' | 'Group')?
}

@description('Key Vault name (3-24 characters).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags { *: string }

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

@description('Role assignments, each on one secret (by name) rather than the whole vault: an identity reads only the secrets it uses.')
param secretRoleAssignments secretRoleAssignment[] = []

@description('private: the firewall denies everything but trusted Azure services, allowedIps and the private endpoint; open: any network (Entra RBAC still applies).')
@allowed(['private', 'open'])
param networkAccess string

@description('Public IPs or CIDR ranges let through the firewall in private mode (the workstation running azd reads the seeds back).')
param allowedIps string[] = []

// azd's secretOrRandomPassword makes 15 characters; the apps get a deterministic 41-character stretch of it, so
// every provision writes the same value and shared/config's 16-character minimum always holds.
func stretch(seed string) string => '${seed}${uniqueString(seed)}${uniqueString(seed, 'stretch')}'

// Only whether a webhook secret was given leaves this module, never the value.
var hasWebhookSecret = !empty(webhookSecrets)

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' = {
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
    // Enabled so the firewall below (not a blanket refusal) decides; the apps come in over the private endpoint.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: networkAccess == 'private' ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
      ipRules: [for ip in allowedIps: { value: ip }]
    }
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

// A secret resource per assignment target: scope must be a resource symbol, so look each one up by name.
resource secrets 'Microsoft.KeyVault/vaults/secrets@2026-05-15' existing = [
  for a in secretRoleAssignments: {
    parent: vault
    name: a.secret
  }
]

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (a, i) in secretRoleAssignments: {
    name: guid(vault.id, a.secret, a.principalId, a.roleDefinitionId)
    scope: secrets[i]
    properties: {
      principalId: a.principalId
      principalType: a.?principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
    // The secrets above are looked up, not declared: wait for the ones this template writes.
    dependsOn: [vault::webhookSecret, vault::workerSeed, vault::workerSecret, vault::mcpSeed, vault::mcpKey]
  }
]

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
// Versionless URIs: Key Vault references follow rotation without a redeploy.
output webhookSecretsUri string = !hasWebhookSecret ? '' : '${vault.properties.vaultUri}secrets/webhook-secrets'
output workerAuthSecretUri string = '${vault.properties.vaultUri}secrets/worker-auth-secret'
output mcpBuiltinKeyUri string = '${vault.properties.vaultUri}secrets/mcp-builtin-key'
