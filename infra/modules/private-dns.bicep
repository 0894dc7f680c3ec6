// Private DNS for the internal Container Apps environment: its default domain resolves to the environment's
// internal load balancer inside the virtual network (the Function app resolves the worker's FQDN through it).
// A module of its own because the zone name is only known once the environment exists.

@description('The Container Apps environment default domain.')
param zoneName string

@description('The environment internal load balancer IP.')
param staticIp string

@description('Virtual network to link the zone to.')
param vnetId string

@description('Resource tags.')
param tags { *: string }

resource zone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: zoneName
  location: 'global'
  tags: tags
}

resource wildcard 'Microsoft.Network/privateDnsZones/A@2024-06-01' = {
  parent: zone
  name: '*'
  properties: { ttl: 300, aRecords: [{ ipv4Address: staticIp }] }
}

resource link 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: zone
  name: 'vnet'
  location: 'global'
  tags: tags
  properties: { registrationEnabled: false, virtualNetwork: { id: vnetId } }
}
