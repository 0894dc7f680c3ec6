// Web PubSub: pushes session events (state, transcript, latency) to the browser. Access keys are disabled; the
// Function app mints client tokens and publishes with its managed identity (Web PubSub Service Owner).

import { roleAssignment } from 'roles.bicep'

@description('Web PubSub name.')
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags { *: string }

@description('Free_F1 (20 connections, no SLA) costs nothing; Standard_S1 is billed per unit-day even when idle.')
@allowed(['Free_F1', 'Standard_S1'])
param sku string = 'Free_F1'

@description('Role assignments on the service.')
param roleAssignments roleAssignment[] = []

resource pubsub 'Microsoft.SignalRService/webPubSub@2024-03-01' = {
  name: name
  location: location
  tags: tags
  sku: { name: sku, tier: sku == 'Free_F1' ? 'Free' : 'Standard', capacity: 1 }
  properties: {
    disableLocalAuth: true
    disableAadAuth: false
    publicNetworkAccess: 'Enabled'
  }
}

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in roleAssignments: {
    name: guid(pubsub.id, a.principalId, a.roleDefinitionId)
    scope: pubsub
    properties: {
      principalId: a.principalId
      principalType: a.?principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]

output name string = pubsub.name
output endpoint string = 'https://${pubsub.properties.hostName}'
