// Log Analytics + workspace-based Application Insights. Both refuse key-based ingestion: the apps send telemetry
// with their managed identity (Monitoring Metrics Publisher on the App Insights component).

import { roleAssignment } from 'roles.bicep'

@description('Log Analytics workspace name.')
param logAnalyticsName string

@description('Application Insights component name.')
param appInsightsName string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags { *: string }

@description('Days Log Analytics keeps data (30 is included in the ingestion price).')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

@description('Daily ingestion cap in GB; -1 for none. A cap bounds the one cost that grows with traffic even at idle.')
param dailyQuotaGb int = -1

@description('Role assignments on the Application Insights component.')
param roleAssignments roleAssignment[] = []

resource workspace 'Microsoft.OperationalInsights/workspaces@2026-03-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: retentionInDays
    workspaceCapping: { dailyQuotaGb: dailyQuotaGb }
    features: {
      // No shared-key ingestion or queries; Container Apps logs arrive through diagnostic settings instead.
      disableLocalAuth: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    // Telemetry must be Entra-authenticated; the instrumentation key in the connection string alone is refused.
    DisableLocalAuth: true
  }
}

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in roleAssignments: {
    name: guid(appInsights.id, a.principalId, a.roleDefinitionId)
    scope: appInsights
    properties: {
      principalId: a.principalId
      principalType: a.?principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]

output workspaceId string = workspace.id
output workspaceName string = workspace.name
output appInsightsName string = appInsights.name
// The connection string identifies the component (ingestion endpoint + instrumentation key); with local auth
// disabled it grants nothing on its own, so it is passed as a plain setting.
output appInsightsConnectionString string = appInsights.properties.ConnectionString
