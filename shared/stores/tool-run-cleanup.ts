import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { tableClient, TABLES, type StorageConfig } from '../storage/tables';
import { toolRunKeys } from './tool-runs';

/**
 * Tool runs hold what the tools returned (orders, tickets: personal data), so they follow the history's rules:
 * deleted with a caller's history (`DELETE /api/users/me/history`) and by retention.
 */
export interface ToolRunCleanup {
  /** Every run of these sessions; returns how many rows went. */
  deleteSessions(sessionIds: Iterable<string>): Promise<number>;
  /** Runs started before `beforeMs`, across sessions (one scan, like history retention). */
  purgeBefore(beforeMs: number): Promise<number>;
}

async function deleteKeys(client: TableClient, rows: { partitionKey: string; rowKey: string }[]): Promise<number> {
  const byPartition = new Map<string, string[]>();
  for (const r of rows) byPartition.set(r.partitionKey, [...(byPartition.get(r.partitionKey) ?? []), r.rowKey]);
  let deleted = 0;
  for (const [pk, keys] of byPartition) {
    // Entity-group transactions: one partition, at most 100 operations each.
    for (let i = 0; i < keys.length; i += 100) {
      const batch: TransactionAction[] = keys
        .slice(i, i + 100)
        .map((rk) => ['delete', { partitionKey: pk, rowKey: rk }]);
      await client.submitTransaction(batch);
      deleted += batch.length;
    }
  }
  return deleted;
}

async function list(client: TableClient, filter: string) {
  const rows: { partitionKey: string; rowKey: string }[] = [];
  for await (const e of client.listEntities({ queryOptions: { filter, select: ['PartitionKey', 'RowKey'] } }))
    rows.push({ partitionKey: e.partitionKey!, rowKey: e.rowKey! });
  return rows;
}

export function createToolRunCleanup(
  config: StorageConfig,
  client: TableClient = tableClient(config, TABLES.toolruns),
): ToolRunCleanup {
  return {
    async deleteSessions(sessionIds) {
      let n = 0;
      for (const id of new Set(sessionIds)) {
        const { partitionKey } = toolRunKeys(id);
        n += await deleteKeys(
          client,
          await list(client, odata`PartitionKey eq ${partitionKey} and sessionId eq ${id}`),
        );
      }
      return n;
    },
    async purgeBefore(beforeMs) {
      // The row's own Timestamp (its last write) is typed the same on every row, unlike a numeric property.
      const cutoff = new Date(Math.floor(beforeMs)).toISOString();
      return deleteKeys(client, await list(client, `Timestamp lt datetime'${cutoff}'`));
    },
  };
}
