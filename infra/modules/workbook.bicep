// The operator's view: an Azure Monitor workbook over the app's metrics in Application Insights (customMetrics).
// Its queries live in infra/workbooks/operator.workbook.json; test/infra/workbook.test.ts checks that each names
// a metric the code emits.

@description('Azure region.')
param location string

@description('Resource tags.')
param tags { *: string }

@description('Name of the Application Insights component the workbook reads (in this resource group).')
param appInsightsName string

@description('Name shown in the portal.')
param displayName string = 'Voice agents: operator view'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID; this one is stable per component, so a redeploy updates it in place.
  name: guid(appInsights.id, 'operator-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: appInsights.id
    serializedData: replace(loadTextContent('../workbooks/operator.workbook.json'), '{appInsightsId}', appInsights.id)
  }
}

output workbookId string = workbook.id
