/** azd postdeploy hook of the api service (azure.yaml): installs the built-in MCP server's host key. */
import { DefaultAzureCredential } from '@azure/identity';
import { installMcpHostKey, targetFromEnv } from './function-key';

installMcpHostKey(targetFromEnv(process.env), new DefaultAzureCredential())
  .then(() => console.log('postdeploy: built-in MCP host key installed'))
  .catch((err: unknown) => {
    console.error(`postdeploy failed: ${(err as Error).message ?? String(err)}`);
    process.exit(1);
  });
