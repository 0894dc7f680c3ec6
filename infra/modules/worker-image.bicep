// Reads the image the worker Container App runs now, so re-provisioning (CI runs `azd provision` before
// `azd deploy`) keeps the deployed image instead of resetting it to the placeholder. azd sets
// SERVICE_WORKER_RESOURCE_EXISTS once the app exists.

@description('Worker Container App name.')
param name string

@description('Whether the app already exists.')
param exists bool

resource current 'Microsoft.App/containerApps@2026-07-01' existing = if (exists) {
  name: name
}

output image string = current.?properties.?template.?containers[?0].?image ?? ''
