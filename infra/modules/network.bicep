// Virtual network joining the Function app (Flex Consumption VNet integration) and the internal Container Apps
// environment, so the worker's API is reachable from the Function app and from nothing on the internet.

@description('Virtual network name.')
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags { *: string }

@description('Address space of the virtual network.')
param addressPrefix string = '10.40.0.0/16'

@description('Subnet of the Container Apps environment (workload profiles: /27 or larger).')
param containerAppsSubnetPrefix string = '10.40.0.0/23'

@description('Subnet the Function app integrates with (Flex Consumption: delegated to Microsoft.App/environments).')
param functionsSubnetPrefix string = '10.40.2.0/24'

@description('Subnet holding the private endpoints of Storage, Key Vault and the registry.')
param privateEndpointsSubnetPrefix string = '10.40.3.0/24'

resource vnet 'Microsoft.Network/virtualNetworks@2026-03-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: [addressPrefix] }
    subnets: [
      {
        name: 'container-apps'
        properties: {
          addressPrefix: containerAppsSubnetPrefix
          delegations: [{ name: 'container-apps', properties: { serviceName: 'Microsoft.App/environments' } }]
        }
      }
      {
        name: 'functions'
        properties: {
          addressPrefix: functionsSubnetPrefix
          delegations: [{ name: 'flex-consumption', properties: { serviceName: 'Microsoft.App/environments' } }]
          // All of the Function app's traffic goes through this subnet (so Key Vault references and host storage
          // reach the private endpoints); the platform's default outbound IP carries the rest, no NAT gateway.
          defaultOutboundAccess: true
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointsSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

output id string = vnet.id
output containerAppsSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'container-apps')
output functionsSubnetId string = resourceId('Microsoft.Network/virtualNetworks/subnets', vnet.name, 'functions')
output privateEndpointsSubnetId string = resourceId(
  'Microsoft.Network/virtualNetworks/subnets',
  vnet.name,
  'private-endpoints'
)
