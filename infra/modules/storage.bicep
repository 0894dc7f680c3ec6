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
param tags { *: string }

@description('Blob container Flex Consumption deploys the Function app package from.')
param deploymentContainerName string

@description('Role assignments on the whole account (the Function app: host, Durable task hub, every table).')
param roleAssignments roleAssignment[] = []

@description('App tables created here, so roles can be granted on one table at a time.')
param tables string[] = []

@description('Role assignments on one table each (the worker: only the tables it uses, read-only where it only reads).')
param tableRoleAssignments tableRoleAssignment[] = []

@description('private: the firewall denies everything but trusted Azure services, allowedIps and the private endpoints; open: any network (Entra RBAC still applies).')
@allowed(['private', 'open'])
param networkAccess string

@description('Public IPs or CIDR ranges let through the firewall in private mode (the workstation running the seeding hook).')
param allowedIps string[] = []

@description('A role assignment on one table.')
type tableRoleAssignment = {
  @description('Table name; one of `tables`.')
  table: string
  @description('Object id of the principal.')
  principalId: string
  @description('A value from `roles`.')
  roleDefinitionId: string
  @description('Principal type; set for managed identities so ARM does not wait on directory replication.')
  principalType: ('ServicePrincipal' | 'User' | 'Group')?
}

resource storage 'Microsoft.Storage/storageAccounts@2026-09-01' = {
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
    // Enabled so the firewall below (not a blanket refusal) decides; the apps come in over the private endpoints.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: networkAccess == 'private' ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
      ipRules: [for ip in allowedIps: { value: ip, action: 'Allow' }]
    }
  }

  resource blobs 'blobServices' = {
    name: 'default'
    resource deployments 'containers' = {
      name: deploymentContainerName
      properties: { publicAccess: 'None' }
    }
  }

  resource tableService 'tableServices' = {
    name: 'default'
    resource appTables 'tables' = [for t in tables: { name: t }]
  }
}

resource grantedTables 'Microsoft.Storage/storageAccounts/tableServices/tables@2026-09-01' existing = [
  for a in tableRoleAssignments: {
    parent: storage::tableService
    name: a.table
  }
]

resource tableAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (a, i) in tableRoleAssignments: {
    name: guid(storage.id, a.table, a.principalId, a.roleDefinitionId)
    scope: grantedTables[i]
    properties: {
      principalId: a.principalId
      principalType: a.?principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
    dependsOn: [storage::tableService::appTables]
  }
]

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
