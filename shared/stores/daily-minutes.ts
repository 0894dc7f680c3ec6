import { createHash } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import type { SessionEventPublisher } from '../events/types';
import { isStorageStatus, tableClient, TABLES, type StorageConfig } from '../storage/tables';
import type { SessionStore } from './sessions';

/**
 * Call time per user and UTC day, counted from ended sessions' durations (live → ended) in Table `ratelimits`
 * beside the per-minute counters: one row per user and day (PK `minutes:<hash of the user>`, RK the date), so a
 * session start costs one point read, never a scan of the sessions.
 */
export interface DailyMinutes {
  /** Seconds this user's ended sessions lasted on the UTC day of `at`. */
  usedSeconds(userId: string, at: number): Promise<number>;
  add(userId: string, seconds: number, at: number): Promise<void>;
}

const dayOf = (at: number) => new Date(at).toISOString().slice(0, 10);
const keyOf = (userId: string) => `minutes:${createHash('sha256').update(userId).digest('base64url').slice(0, 32)}`;

/** The next UTC midnight after `at` (when a day's allowance starts again). */
export const nextUtcDay = (at: number) => Date.parse(`${dayOf(at)}T00:00:00Z`) + 86_400_000;

export function createDailyMinutes(
  config: StorageConfig,
  client: TableClient = tableClient(config, TABLES.ratelimits),
): DailyMinutes {
  const read = async (userId: string, at: number) => {
    try {
      return await client.getEntity<{ seconds: number }>(keyOf(userId), dayOf(at));
    } catch (err) {
      if (isStorageStatus(err, 404)) return undefined;
      throw err;
    }
  };
  return {
    async usedSeconds(userId, at) {
      return (await read(userId, at))?.seconds ?? 0;
    },
    async add(userId, seconds, at) {
      if (!(seconds > 0)) return;
      const partitionKey = keyOf(userId);
      const rowKey = dayOf(at);
      // ETag-checked: two sessions of one user ending at once both count.
      for (let i = 0; i < 5; i++) {
        const row = await read(userId, at);
        try {
          if (!row) await client.createEntity({ partitionKey, rowKey, seconds: Math.round(seconds) });
          else
            await client.updateEntity({ partitionKey, rowKey, seconds: row.seconds + Math.round(seconds) }, 'Merge', {
              etag: row.etag,
            });
          return;
        } catch (err) {
          if (!isStorageStatus(err, 409) && !isStorageStatus(err, 412)) throw err;
        }
      }
      throw new Error(`daily minutes of a user: too much contention on ${rowKey}`);
    },
  };
}

/**
 * Counts each ended session of a signed-in user into their day, once: the row remembers the end it counted
 * (a state event delivered twice, by a Durable retry, is not counted twice). Failures are logged, never
 * propagated: a missed count only makes the limit kinder.
 */
export function withDailyMinutes(
  inner: SessionEventPublisher,
  deps: {
    minutes: DailyMinutes;
    sessions: Pick<SessionStore, 'get' | 'update'>;
    awaitWork: boolean;
    log?: (line: string) => void;
  },
): SessionEventPublisher {
  const count = async (sessionId: string, at: number) => {
    const row = await deps.sessions.get(sessionId);
    if (!row?.userId || row.transport === 'sip' || row.minutesCountedAt === at) return;
    const start = row.resumedAt ?? row.liveAt ?? row.acceptedAt ?? row.createdAt;
    await deps.minutes.add(row.userId, Math.max(0, (at - start) / 1000), at);
    await deps.sessions.update(sessionId, { minutesCountedAt: at });
  };
  return {
    async publish(event) {
      const published = inner.publish(event);
      if (event.type === 'state' && (event.state === 'ended' || event.state === 'failed')) {
        const work = count(event.sessionId, event.at).catch((err: unknown) =>
          deps.log?.(`session ${event.sessionId}: counting its minutes failed: ${(err as Error).message}`),
        );
        if (deps.awaitWork) await work;
      }
      await published;
    },
  };
}
