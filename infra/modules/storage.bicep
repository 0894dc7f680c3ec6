// The one storage account: Table Storage for app data (sessions, agents, history, webhook dedupe), the Durable
// Functions task hub (blobs, queues, tables) and the Flex Consumption deployment package container.
// Shared keys are off: every caller authenticates with Entra.

import { roleAssignment } from 'roles.bicep'

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags object

@description('Blob container Flex Consumption deploys the Function app package from.')
param deploymentContainerName string

@description('Role assignments on the storage account.')
param roleAssignments roleAssignment[] = []

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    allowCrossTenantReplication: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { defaultAction: 'Allow', bypass: 'AzureServices' }
  }

  resource blobs 'blobServices' = {
    name: 'default'
    resource deployments 'containers' = {
      name: deploymentContainerName
      properties: { publicAccess: 'None' }
    }
  }
}

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in roleAssignments: {
    name: guid(storage.id, a.principalId, a.roleDefinitionId)
    scope: storage
    properties: {
      principalId: a.principalId
      principalType: a.?principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]

output name string = storage.name
output id string = storage.id
output blobEndpoint string = storage.properties.primaryEndpoints.blob
// Without the trailing slash: the apps join paths onto it.
output tableEndpoint string = 'https://${storage.name}.table.${environment().suffixes.storage}'
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
