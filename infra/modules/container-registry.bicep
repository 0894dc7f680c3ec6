// Container registry for the worker image. No admin user: azd pushes with the deployer's Entra token and the
// worker pulls with its managed identity (AcrPull). Anonymous pull is a Standard/Premium option left at its
// default (off).

import { roleAssignment } from 'roles.bicep'

@description('Registry name (5-50 letters and digits).')
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags { *: string }

@description('Role assignments on the registry.')
param roleAssignments roleAssignment[] = []

@description('private: Premium SKU (the only one with a firewall and private endpoints), denying all but trusted Azure services (ACR Tasks builds the image) and allowedIps; open: Basic, any network (Entra auth still applies).')
@allowed(['private', 'open'])
param networkAccess string

@description('Public IPs or CIDR ranges let through the firewall in private mode (the workstation that uploads the build context).')
param allowedIps string[] = []

var isPrivate = networkAccess == 'private'

resource registry 'Microsoft.ContainerRegistry/registries@2025-11-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: isPrivate ? 'Premium' : 'Basic' }
  properties: {
    adminUserEnabled: false
    publicNetworkAccess: 'Enabled'
    networkRuleBypassOptions: 'AzureServices'
    networkRuleBypassAllowedForTasks: true
    // Firewall rules exist on Premium only; Basic takes none.
    networkRuleSet: isPrivate
      ? { defaultAction: 'Deny', ipRules: map(allowedIps, ip => { value: ip, action: 'Allow' }) }
      : null
  }
}

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in roleAssignments: {
    name: guid(registry.id, a.principalId, a.roleDefinitionId)
    scope: registry
    properties: {
      principalId: a.principalId
      principalType: a.?principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]

output name string = registry.name
output id string = registry.id
output loginServer string = registry.properties.loginServer
