import { odata, type TableClient, type TableEntity } from '@azure/data-tables';
import type { LifecycleState, Transport } from '../lifecycle/operations';
import { isStorageStatus, tableClient, TABLES, type StorageConfig } from '../storage/tables';

/**
 * One row per session in Table `sessions` (PartitionKey = sessionId, RowKey = ''). POST /api/sessions and the
 * SIP webhook create it with one write; the lifecycle and memory features update it later (state, timings,
 * summary, usage) through `update`, which merges only the given fields.
 */
export interface SessionRow {
  sessionId: string;
  agentId: string;
  /** The agent speaking now, once a handoff passed the caller on (absent: still `agentId`). */
  currentAgentId?: string;
  /** The agent definition's version the session started with (the worker loads exactly that one). */
  agentVersion?: number;
  transport: Transport;
  /** Signed-in owner; absent for phone callers. */
  userId?: string;
  /** Where the conversation history lives: `user:<id>` or `sip:<number>`. */
  historyPartition: string;
  state: LifecycleState;
  /** Unix ms. */
  createdAt: number;
  model: string;
  /** Seed the new session with earlier conversations (false: the user asked to start fresh). */
  resume: boolean;
  callId?: string;
  sipFrom?: string;
  sipTo?: string;
  /** When the browser token minted for this session stops working (Unix seconds). */
  tokenExpiresAt?: number;
  /** Last time a dropped call reconnected to this session (Unix ms). */
  resumedAt?: number;
  acceptedAt?: number;
  liveAt?: number;
  endedAt?: number;
  endReason?: string;
  /** Transcript summary and usage, written after the session ends. */
  summary?: string;
  transcriptItems?: number;
  inputTokens?: number;
  outputTokens?: number;
  /** Usage by modality and the cost so far (shared/cost): written while the call runs and when it ends. */
  textInputTokens?: number;
  textCachedTokens?: number;
  textOutputTokens?: number;
  audioInputTokens?: number;
  audioCachedTokens?: number;
  audioOutputTokens?: number;
  imageInputTokens?: number;
  imageCachedTokens?: number;
  liveSeconds?: number;
  costUsd?: number;
  /** The price-table entry the cost used. */
  costPricedAs?: string;
  /** When the cost first passed COST_ALERT_USD (Unix ms). */
  costAlertAt?: number;
  /** The end (Unix ms) already counted into the user's daily minutes. */
  minutesCountedAt?: number;
  /** W3C traceparent of the request that created the session: later hops (the worker) join its trace. */
  traceparent?: string;
}

export type SessionPatch = Partial<Omit<SessionRow, 'sessionId'>>;

export class SessionExistsError extends Error {
  constructor(readonly sessionId: string) {
    super(`session ${sessionId} already exists`);
    this.name = 'SessionExistsError';
  }
}

export interface SessionStore {
  /** One insert; SessionExistsError when the id is taken (lets idempotent creators detect a retry). */
  create(record: SessionRow): Promise<void>;
  get(sessionId: string): Promise<(SessionRow & { etag: string }) | undefined>;
  /** Merges the given fields; with `etag`, only if the row is unchanged since it was read (412 otherwise). */
  update(sessionId: string, patch: SessionPatch, etag?: string): Promise<void>;
  /** Deletes the row (a session whose token could not be minted); a missing row is not an error. */
  remove(sessionId: string): Promise<void>;
  /**
   * Rows not yet ended or failed (the operator's live list). A filtered scan of the table: sessions are keyed by
   * id only, so this reads every partition; fine for an operator's page, not for a hot path.
   */
  listActive(): Promise<SessionRow[]>;
}

/** The session row's RowKey in its partition (PartitionKey = sessionId). */
export const SESSION_ROW = '';
const FIELDS: (keyof SessionRow)[] = [
  'agentId',
  'currentAgentId',
  'agentVersion',
  'transport',
  'userId',
  'historyPartition',
  'state',
  'createdAt',
  'model',
  'resume',
  'callId',
  'sipFrom',
  'sipTo',
  'tokenExpiresAt',
  'resumedAt',
  'acceptedAt',
  'liveAt',
  'endedAt',
  'endReason',
  'summary',
  'transcriptItems',
  'inputTokens',
  'outputTokens',
  'textInputTokens',
  'textCachedTokens',
  'textOutputTokens',
  'audioInputTokens',
  'audioCachedTokens',
  'audioOutputTokens',
  'imageInputTokens',
  'imageCachedTokens',
  'liveSeconds',
  'costUsd',
  'costPricedAs',
  'costAlertAt',
  'traceparent',
  'minutesCountedAt',
];

const defined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function fromEntity(sessionId: string, e: TableEntity<Record<string, unknown>>): SessionRow & { etag: string } {
  const out: Record<string, unknown> = { sessionId, etag: e.etag };
  for (const f of FIELDS) if (e[f] !== undefined && e[f] !== null && e[f] !== '') out[f] = e[f];
  return out as unknown as SessionRow & { etag: string };
}

/** The Table entity a new session row is inserted as. */
export function sessionEntity(record: SessionRow) {
  const { sessionId, ...rest } = record;
  return { partitionKey: sessionId, rowKey: SESSION_ROW, ...defined(rest) };
}

export function createSessionStore(
  config: StorageConfig,
  client: TableClient = tableClient(config, TABLES.sessions),
): SessionStore {
  return {
    async create(record) {
      try {
        await client.createEntity(sessionEntity(record));
      } catch (err) {
        if (isStorageStatus(err, 409)) throw new SessionExistsError(record.sessionId);
        throw err;
      }
    },
    async get(sessionId) {
      try {
        const e = await client.getEntity<TableEntity<Record<string, unknown>>>(sessionId, SESSION_ROW);
        return fromEntity(sessionId, e);
      } catch (err) {
        if (isStorageStatus(err, 404)) return undefined;
        throw err;
      }
    },
    async update(sessionId, patch, etag) {
      await client.updateEntity({ partitionKey: sessionId, rowKey: SESSION_ROW, ...defined(patch) }, 'Merge', {
        etag: etag ?? '*',
      });
    },
    async listActive() {
      const rows: SessionRow[] = [];
      const iter = client.listEntities<TableEntity<Record<string, unknown>>>({
        // Other rows share a session's partition (its lifecycle record): only the session row itself.
        queryOptions: { filter: odata`RowKey eq ${SESSION_ROW} and state ne ${'ended'} and state ne ${'failed'}` },
      });
      for await (const e of iter) rows.push(fromEntity(e.partitionKey, e));
      return rows;
    },
    async remove(sessionId) {
      try {
        await client.deleteEntity(sessionId, SESSION_ROW);
      } catch (err) {
        if (!isStorageStatus(err, 404)) throw err;
      }
    },
  };
}
