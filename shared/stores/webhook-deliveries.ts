import { odata, type TableClient, type TableEntity } from '@azure/data-tables';
import { isStorageStatus, safeKey, tableClient, TABLES, type StorageConfig } from '../storage/tables';

/**
 * Exactly-once processing of webhook deliveries, keyed by `webhook-id` in Table `webhookdeliveries`.
 * A delivery is claimed with an insert (409 = someone has it), marked processed only after its work
 * succeeded, and marked failed otherwise so that the sender's retry can claim it again. A claim whose
 * holder died is taken over after `leaseMs`.
 */
export type ClaimResult = 'claimed' | 'processed' | 'in_progress';

export interface DeliveryStore {
  claim(webhookId: string, type: string): Promise<ClaimResult>;
  complete(webhookId: string, outcome: string): Promise<void>;
  fail(webhookId: string, reason: string): Promise<void>;
  /** Forgets deliveries claimed before `beforeMs` (senders stop retrying after days); returns how many. */
  purgeBefore(beforeMs: number): Promise<number>;
}

interface DeliveryEntity {
  status: 'processing' | 'processed' | 'failed';
  type: string;
  claimedAt: number;
  attempts: number;
  outcome?: string;
  error?: string;
}

const ROW = '';

export function createDeliveryStore(
  config: StorageConfig,
  opts: { leaseMs?: number; now?: () => number; client?: TableClient } = {},
): DeliveryStore {
  const client = opts.client ?? tableClient(config, TABLES.webhooks);
  const leaseMs = opts.leaseMs ?? 30_000;
  const now = opts.now ?? Date.now;
  return {
    async claim(webhookId, type) {
      const pk = safeKey(webhookId);
      try {
        await client.createEntity<DeliveryEntity & { partitionKey: string; rowKey: string }>({
          partitionKey: pk,
          rowKey: ROW,
          status: 'processing',
          type,
          claimedAt: now(),
          attempts: 1,
        });
        return 'claimed';
      } catch (err) {
        if (!isStorageStatus(err, 409)) throw err;
      }
      const existing = await client.getEntity<TableEntity<DeliveryEntity>>(pk, ROW);
      if (existing.status === 'processed') return 'processed';
      if (existing.status === 'processing' && now() - existing.claimedAt < leaseMs) return 'in_progress';
      try {
        // Failed or abandoned: take it over, but only if nobody else did since we read it.
        await client.updateEntity(
          {
            partitionKey: pk,
            rowKey: ROW,
            status: 'processing',
            claimedAt: now(),
            attempts: (existing.attempts ?? 1) + 1,
          },
          'Merge',
          { etag: existing.etag },
        );
        return 'claimed';
      } catch (err) {
        if (isStorageStatus(err, 412)) return 'in_progress';
        throw err;
      }
    },
    async complete(webhookId, outcome) {
      await client.updateEntity(
        { partitionKey: safeKey(webhookId), rowKey: ROW, status: 'processed', outcome },
        'Merge',
      );
    },
    async purgeBefore(beforeMs) {
      let removed = 0;
      const old = client.listEntities<DeliveryEntity>({
        // claimedAt is stored as Edm.Double (ms exceed Int32): compare with a double literal.
        queryOptions: { filter: odata`claimedAt lt ${Math.floor(beforeMs)}.0`, select: ['PartitionKey', 'RowKey'] },
      });
      for await (const e of old) {
        await client.deleteEntity(e.partitionKey!, e.rowKey!).catch((err: unknown) => {
          if (!isStorageStatus(err, 404)) throw err;
        });
        removed += 1;
      }
      return removed;
    },
    async fail(webhookId, reason) {
      await client.updateEntity(
        { partitionKey: safeKey(webhookId), rowKey: ROW, status: 'failed', error: reason.slice(0, 500) },
        'Merge',
      );
    },
  };
}
