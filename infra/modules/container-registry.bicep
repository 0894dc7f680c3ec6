// Container registry for the worker image. No admin user: azd pushes with the deployer's Entra token and the
// worker pulls with its managed identity (AcrPull).

import { roleAssignment } from 'roles.bicep'

@description('Registry name (5-50 letters and digits).')
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags object

@description('Role assignments on the registry.')
param roleAssignments roleAssignment[] = []

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: 'Basic' }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
    publicNetworkAccess: 'Enabled'
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
output loginServer string = registry.properties.loginServer
