// Container Apps environment hosting the worker: workload-profiles (Consumption) environment injected into the
// virtual network with an internal load balancer only. Logs go to Log Analytics through diagnostic settings
// (destination azure-monitor), so no workspace shared key is handed to the environment.

@description('Environment name.')
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags { *: string }

@description('Subnet for the environment infrastructure.')
param subnetId string

@description('Log Analytics workspace receiving console and system logs.')
param logAnalyticsWorkspaceId string

resource environment 'Microsoft.App/managedEnvironments@2026-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    vnetConfiguration: {
      infrastructureSubnetId: subnetId
      // Internal: the environment has no public IP; apps are reachable only from the virtual network.
      internal: true
    }
    workloadProfiles: [{ name: 'Consumption', workloadProfileType: 'Consumption' }]
    appLogsConfiguration: { destination: 'azure-monitor' }
    zoneRedundant: false
  }
}

// 2016-09-01, the only non-preview version, has no categoryGroup ('allLogs'): it would need every log category
// listed by name, and would miss categories added later.
#disable-next-line use-recent-api-versions
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'logs-to-workspace'
  scope: environment
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
  }
}

output id string = environment.id
output name string = environment.name
output defaultDomain string = environment.properties.defaultDomain
output staticIp string = environment.properties.staticIp
