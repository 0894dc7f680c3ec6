// A private endpoint for one sub-resource of a service (blob, queue, table, vault, registry), with the private DNS
// zone that makes the service's usual host name resolve to it inside the virtual network. The apps keep using the
// public host names; only their resolution changes.

@description('Private endpoint name.')
param name string

@description('Azure region (the virtual network\'s).')
param location string

@description('Resource tags.')
param tags { *: string }

@description('Subnet the endpoint takes its address from.')
param subnetId string

@description('Virtual network the DNS zone is linked to.')
param vnetId string

@description('Resource id of the service the endpoint connects to.')
param serviceId string

@description('Sub-resource (group id): blob, queue, table, vault or registry.')
@allowed(['blob', 'queue', 'table', 'vault', 'registry'])
param groupId string

@description('The privatelink DNS zone of that sub-resource, e.g. privatelink.blob.core.windows.net.')
param zoneName string

resource zone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: zoneName
  location: 'global'
  tags: tags
}

resource link 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: zone
  name: 'vnet'
  location: 'global'
  tags: tags
  properties: { registrationEnabled: false, virtualNetwork: { id: vnetId } }
}

resource endpoint 'Microsoft.Network/privateEndpoints@2026-03-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: { id: subnetId }
    privateLinkServiceConnections: [
      { name: groupId, properties: { privateLinkServiceId: serviceId, groupIds: [groupId] } }
    ]
  }

  // Registers the endpoint's address in the zone (and keeps it current if the endpoint's IP changes).
  resource dns 'privateDnsZoneGroups' = {
    name: 'default'
    properties: { privateDnsZoneConfigs: [{ name: groupId, properties: { privateDnsZoneId: zone.id } }] }
  }
}
