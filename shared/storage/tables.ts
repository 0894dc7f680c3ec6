import { TableClient, TableServiceClient, type TableEntity } from '@azure/data-tables';
import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { CommonConfig } from '../config/index';

export type StorageConfig = Pick<CommonConfig, 'STORAGE_CONNECTION_STRING' | 'STORAGE_TABLE_ENDPOINT'>;

let sharedCredential: TokenCredential | undefined;
const credential = () => (sharedCredential ??= new DefaultAzureCredential());

const isLocal = (conn: string) => /UseDevelopmentStorage=true|127\.0\.0\.1|localhost/i.test(conn);

/** A TableClient for one table: keyless (managed identity) in Azure, connection string locally. */
export function tableClient(config: StorageConfig, table: string): TableClient {
  if (config.STORAGE_CONNECTION_STRING) {
    return TableClient.fromConnectionString(config.STORAGE_CONNECTION_STRING, table, {
      allowInsecureConnection: isLocal(config.STORAGE_CONNECTION_STRING),
    });
  }
  if (!config.STORAGE_TABLE_ENDPOINT) throw new Error('no Table Storage configured');
  return new TableClient(config.STORAGE_TABLE_ENDPOINT, table, credential());
}

export function tableServiceClient(config: StorageConfig): TableServiceClient {
  if (config.STORAGE_CONNECTION_STRING) {
    return TableServiceClient.fromConnectionString(config.STORAGE_CONNECTION_STRING, {
      allowInsecureConnection: isLocal(config.STORAGE_CONNECTION_STRING),
    });
  }
  if (!config.STORAGE_TABLE_ENDPOINT) throw new Error('no Table Storage configured');
  return new TableServiceClient(config.STORAGE_TABLE_ENDPOINT, credential());
}

/** The HTTP status of a Table Storage error (the SDK's RestError), or undefined for anything else. */
export const storageStatus = (err: unknown): number | undefined =>
  typeof err === 'object' && err !== null ? (err as { statusCode?: number }).statusCode : undefined;

/** Whether a Table Storage call failed with one of these statuses (404 missing, 409 exists, 412 ETag). */
export const isStorageStatus = (err: unknown, ...statuses: number[]): boolean => {
  const status = storageStatus(err);
  return status !== undefined && statuses.includes(status);
};

/** Table names the app uses. Created once at start-up (not per request: each create is a transaction). */
export const TABLES = {
  sessions: 'sessions',
  history: 'history',
  agents: 'agents',
  webhooks: 'webhookdeliveries',
  ratelimits: 'ratelimits',
  orders: 'orders',
  tickets: 'tickets',
  knowledge: 'knowledge',
  scores: 'scores',
  toolruns: 'toolruns',
  calls: 'calls',
  operatorAudit: 'operatoraudit',
} as const;

export async function ensureTables(config: StorageConfig, names: readonly string[] = Object.values(TABLES)) {
  await Promise.all(
    names.map(async (name) => {
      try {
        await tableClient(config, name).createTable();
      } catch (err) {
        // 409 TableAlreadyExists is fine; anything else is a real failure.
        if (!isStorageStatus(err, 409)) throw err;
      }
    }),
  );
}

/** Cheapest reachability probe: one query for at most one entity. */
export async function probeTable(config: StorageConfig, table: string = TABLES.sessions): Promise<void> {
  const iter = tableClient(config, table)
    .listEntities<TableEntity>({ queryOptions: { select: ['PartitionKey'] } })
    .byPage({ maxPageSize: 1 });
  await iter.next();
}

/** Table keys may not contain / \ # ? or control characters. */
export function safeKey(value: string): string {
  return value.replace(
    // eslint-disable-next-line no-control-regex -- control characters are exactly what Table keys refuse
    /[/\\#?\u0000-\u001f\u007f-\u009f]/g,
    (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
