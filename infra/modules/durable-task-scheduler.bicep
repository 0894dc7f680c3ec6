// Durable Task Scheduler (durableBackend=dts): a managed backend for Durable Functions in place of the Azure
// Storage provider. Consumption SKU: billed per action dispatched, nothing at idle. The Function app reaches it with
// its managed identity (Durable Task Data Contributor on the task hub); the scheduler takes no keys.

import { roleAssignment } from 'roles.bicep'

@description('Scheduler name (3-64 letters, digits and hyphens).')
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags { *: string }

@description('Task hub name (the Function app\'s DURABLE_TASK_HUB).')
param taskHubName string

@description('Role assignments on the task hub.')
param roleAssignments roleAssignment[] = []

resource scheduler 'Microsoft.DurableTask/schedulers@2026-02-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    sku: { name: 'Consumption' }
    // An empty list refuses every caller; access is decided by Entra RBAC on the task hub.
    ipAllowlist: ['0.0.0.0/0']
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2026-02-01' = {
  parent: scheduler
  name: taskHubName
}

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in roleAssignments: {
    name: guid(taskHub.id, a.principalId, a.roleDefinitionId)
    scope: taskHub
    properties: {
      principalId: a.principalId
      principalType: a.?principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]

output endpoint string = scheduler.properties.endpoint
output taskHubName string = taskHub.name
