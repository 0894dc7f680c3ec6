/**
 * azd postprovision hook (azure.yaml): tables + seed data, keyless, with the deployer's Entra login
 * (DefaultAzureCredential includes the azd and az CLI credentials). azd exports the Bicep outputs,
 * STORAGE_TABLE_ENDPOINT among them, as environment variables before running it.
 */
import { provisionData } from './provision-data';

const endpoint = process.env.STORAGE_TABLE_ENDPOINT;
if (!endpoint) {
  console.error('postprovision: STORAGE_TABLE_ENDPOINT is not set (run it through `azd provision`).');
  process.exit(1);
}

provisionData({ STORAGE_TABLE_ENDPOINT: endpoint })
  .then((r) => console.log(`postprovision: agents ${r.agents.join(', ')}; ${r.orders} orders; ${r.articles} articles`))
  .catch((err: unknown) => {
    // The message only: SDK errors can carry request details.
    console.error(`postprovision failed: ${(err as Error).message ?? String(err)}`);
    process.exit(1);
  });
