// One user-assigned managed identity. Each app gets its own so its role assignments are exactly what it needs.

@description('Identity name.')
param name string

@description('Azure region.')
param location string

@description('Resource tags.')
param tags { *: string }

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output name string = identity.name
output principalId string = identity.properties.principalId
output clientId string = identity.properties.clientId
