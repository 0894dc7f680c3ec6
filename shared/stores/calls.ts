import { createHash } from 'node:crypto';
import { RestError } from '@azure/data-tables';
import { tableClient, TABLES, type StorageConfig } from '../storage/tables';

/**
 * One row per realtime call in Table `calls` (PartitionKey = hash of the call id): which session it belongs to.
 * Claimed with an insert, so one call belongs to at most one session however many registrations race.
 */
export interface CallStore {
  /** The session the call now belongs to: `sessionId` when this claim won (or it was already ours). */
  claim(callId: string, sessionId: string): Promise<string>;
}

const keyOf = (callId: string) => createHash('sha256').update(callId).digest('base64url');

export function createCallStore(config: StorageConfig): CallStore {
  const table = tableClient(config, TABLES.calls);
  return {
    async claim(callId, sessionId) {
      const partitionKey = keyOf(callId);
      try {
        await table.createEntity({ partitionKey, rowKey: '', sessionId, claimedAt: Date.now() });
        return sessionId;
      } catch (err) {
        if (!(err instanceof RestError) || err.statusCode !== 409) throw err;
        const row = await table.getEntity<{ sessionId: string }>(partitionKey, '');
        return row.sessionId;
      }
    },
  };
}
