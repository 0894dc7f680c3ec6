import { createHash, randomBytes } from 'node:crypto';
import { odata, type TableClient, type TableEntity } from '@azure/data-tables';
import { tableClient, TABLES, type StorageConfig } from '../storage/tables';

/** One operator action: who did what to which target, and how it ended. */
export interface AuditEntry {
  /** The operator's user id (Entra `oid`): kept in the table, only hashed in logs. */
  operator: string;
  /** `sessions.list`, `sessions.hangup`, `agents.create`, `agents.update`, `agents.retire`, … */
  action: string;
  /** What the action named: a session id, an agent id (and version). */
  target?: string;
  /** `ok`, `denied` (no operator role), `not_found`, `conflict`, `invalid`. */
  outcome: string;
  /** Unix ms. */
  at: number;
}

export interface OperatorAudit {
  /** Stores the entry (Table `operatoraudit`) and logs it with the operator hashed. */
  record(entry: AuditEntry): Promise<void>;
  /** One UTC day's entries (`YYYY-MM-DD`), newest first. */
  list(day: string): Promise<AuditEntry[]>;
}

/** A stable reference to an operator for log lines: `op#` + 12 hex of SHA-256 (the id itself is personal data). */
export const operatorRef = (operator: string) =>
  `op#${createHash('sha256').update(operator).digest('hex').slice(0, 12)}`;

const MAX = 8_640_000_000_000_000;

/**
 * Table `operatoraudit`: PartitionKey the UTC day, RowKey the inverted time plus a random suffix (newest first,
 * never two entries on one key). Append-only: nothing in the app updates or deletes an entry.
 */
export function createOperatorAudit(
  config: StorageConfig,
  opts: { log?: (line: string) => void; client?: TableClient } = {},
): OperatorAudit {
  const client = opts.client ?? tableClient(config, TABLES.operatorAudit);
  const log = opts.log ?? ((l) => console.log(l));
  return {
    async record(e) {
      const day = new Date(e.at).toISOString().slice(0, 10);
      const rowKey = `${String(MAX - e.at).padStart(16, '0')}-${randomBytes(4).toString('hex')}`;
      log(`operator ${operatorRef(e.operator)} ${e.action}${e.target ? ` ${e.target}` : ''}: ${e.outcome}`);
      await client.createEntity({ partitionKey: day, rowKey, ...e, target: e.target ?? '' });
    },
    async list(day) {
      const out: AuditEntry[] = [];
      const iter = client.listEntities<TableEntity<AuditEntry>>({
        queryOptions: { filter: odata`PartitionKey eq ${day}` },
      });
      for await (const r of iter)
        out.push({
          operator: r.operator,
          action: r.action,
          target: r.target || undefined,
          outcome: r.outcome,
          at: r.at,
        });
      return out;
    },
  };
}
