// Built-in Azure role definition ids used by this template, in one place so every role assignment names a
// role from this table (test/infra checks it). Each is the least-privileged built-in role for what the app does.

@export()
@description('Built-in role definition ids (GUIDs) by role name.')
var roles = {
  // Cognitive Services OpenAI User: call model deployments (realtime sessions, summaries, judging); no management.
  cognitiveServicesOpenAIUser: '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd'
  // Storage Table Data Contributor: the Function app's tables (account-wide); the worker's written tables (one by one).
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  // Storage Table Data Reader: the worker's read-only tables (agent definitions).
  storageTableDataReader: '76199698-9eea-4c19-bc75-cec21354c6b6'
  // Storage Blob Data Owner: Flex Consumption deployment package + Durable Functions leases and large messages.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // Storage Queue Data Contributor: Durable Functions control and work-item queues.
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  // Web PubSub Service Owner: send to groups/users and mint client access tokens with Entra (no access key).
  webPubSubServiceOwner: '12cf5a90-567b-43ae-8102-96cf46c7d9b4'
  // AcrPull: the worker's Container App pulls its image.
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d'
  // Monitoring Metrics Publisher: send telemetry to Application Insights with Entra (local auth is disabled).
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  // Key Vault Secrets User: read the webhook and worker secrets through Key Vault references (granted per secret).
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  // Durable Task Data Contributor: the Function app runs and starts orchestrations and entities on the scheduler.
  durableTaskDataContributor: '0ad04412-c4d5-4796-b79c-f76d14c8d402'
}

@export()
@description('One role assignment on the resource a module creates.')
type roleAssignment = {
  @description('Object id of the principal (a user-assigned identity, or the deploying user for seeding).')
  principalId: string
  @description('A value from `roles`.')
  roleDefinitionId: string
  @description('Principal type; set for managed identities so ARM does not wait on directory replication.')
  principalType: ('ServicePrincipal' | 'User' | 'Group')?
}
