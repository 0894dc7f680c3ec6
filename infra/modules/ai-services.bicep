// Azure AI Foundry (AIServices) account with the realtime speech model and a small text model for summaries and
// LLM-as-judge scoring. Keys are disabled: the apps call it with their managed identity.

import { roleAssignment } from 'roles.bicep'

@description('Account name; also the custom subdomain of its endpoint.')
param name string

@description('Region with gpt-realtime capacity (e.g. eastus2, swedencentral).')
param location string

@description('Resource tags.')
param tags { *: string }

@description('A model deployment: its name is the model name, so settings need no mapping.')
type modelDeployment = {
  @description('Model name, also the deployment name.')
  name: string
  @description('Model version.')
  version: string
  @description('GlobalStandard capacity in thousands of tokens per minute.')
  capacity: int
}

@description('Realtime model deployment (name = model name, so REALTIME_MODEL needs no mapping).')
param realtimeModel modelDeployment = {
  name: 'gpt-realtime'
  version: '2025-08-28'
  capacity: 10
}

@description('Text model deployment for summaries and judging.')
param textModel modelDeployment = {
  name: 'gpt-4.1-mini'
  version: '2025-04-14'
  capacity: 50
}

@description('Role assignments on the account.')
param roleAssignments roleAssignment[] = []

resource account 'Microsoft.CognitiveServices/accounts@2026-09-01' = {
  name: name
  location: location
  tags: tags
  kind: 'AIServices'
  sku: { name: 'S0' }
  properties: {
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
  }
}

// GlobalStandard is pay-per-token: nothing is billed while no session is running.
resource realtime 'Microsoft.CognitiveServices/accounts/deployments@2026-09-01' = {
  parent: account
  name: realtimeModel.name
  sku: { name: 'GlobalStandard', capacity: realtimeModel.capacity }
  properties: {
    model: { format: 'OpenAI', name: realtimeModel.name, version: realtimeModel.version }
    versionUpgradeOption: 'OnceNewDefaultVersionAvailable'
  }
}

resource text 'Microsoft.CognitiveServices/accounts/deployments@2026-09-01' = {
  parent: account
  name: textModel.name
  sku: { name: 'GlobalStandard', capacity: textModel.capacity }
  properties: {
    model: { format: 'OpenAI', name: textModel.name, version: textModel.version }
    versionUpgradeOption: 'OnceNewDefaultVersionAvailable'
  }
  // One deployment at a time: parallel deployment writes on one account conflict.
  dependsOn: [realtime]
}

resource assignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for a in roleAssignments: {
    name: guid(account.id, a.principalId, a.roleDefinitionId)
    scope: account
    properties: {
      principalId: a.principalId
      principalType: a.?principalType
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', a.roleDefinitionId)
    }
  }
]

output name string = account.name
// The Azure OpenAI endpoint form the realtime provider expects: https://{resource}.openai.azure.com
output openAiEndpoint string = 'https://${account.properties.customSubDomainName}.openai.azure.com'
output realtimeDeployment string = realtime.name
output textDeployment string = text.name
