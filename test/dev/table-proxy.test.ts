import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableClient } from '../../shared/storage/tables';
import { azuriteConnectionString, startAzurite, type Azurite } from '../../dev/azurite';
import { startTableProxy, type TableProxy } from '../../dev/table-proxy';

describe('table proxy (storage transaction counter)', () => {
  let azurite: Azurite;
  let proxy: TableProxy;
  beforeAll(async () => {
    azurite = await startAzurite();
    proxy = await startTableProxy({ port: azurite.port });
  });
  afterAll(async () => {
    await proxy?.close();
    await azurite?.stop();
  });

  it('counts each call once, a transactional batch as one', async () => {
    const client = tableClient({ STORAGE_CONNECTION_STRING: azuriteConnectionString(proxy.port) }, 'proxycount');
    await client.createTable();
    proxy.reset();
    await client.createEntity({ partitionKey: 'p', rowKey: '1', v: 1 });
    await client.submitTransaction([
      ['upsert', { partitionKey: 'p', rowKey: '2', v: 2 }],
      ['upsert', { partitionKey: 'p', rowKey: '3', v: 3 }],
    ]);
    await client.getEntity('p', '1');
    const all = [];
    for await (const e of client.listEntities()) all.push(e);
    expect(all).toHaveLength(3);
    expect(proxy.summary()).toEqual({
      'insert proxycount': 1,
      'batch proxycount': 1,
      'point-read proxycount': 1,
      'query proxycount': 1,
    });
  });
});
