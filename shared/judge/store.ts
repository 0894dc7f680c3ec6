import { odata, type TableClient, type TableEntity } from '@azure/data-tables';
import { isStorageStatus, safeKey, tableClient, TABLES, type StorageConfig } from '../storage/tables';
import { CRITERIA, type CriterionScore } from './schema';

/**
 * Judge scores in Table `scores`: PartitionKey = agent id (dashboards read one agent's scores as one
 * partition query), RowKey = session id (one verdict per session; a re-run overwrites it).
 */
export interface SessionScore {
  sessionId: string;
  agentId: string;
  scores: Record<string, CriterionScore>;
  overall: number;
  summary: string;
  judgeModel: string;
  rubric: string;
  /** How many transcript items were judged (a resumed session with more items is judged again). */
  transcriptItems: number;
  /** Unix ms. */
  scoredAt: number;
}

export interface ScoreStore {
  put(score: SessionScore): Promise<void>;
  get(agentId: string, sessionId: string): Promise<SessionScore | undefined>;
  listForAgent(agentId: string, limit?: number): Promise<SessionScore[]>;
}

interface ScoreEntity extends TableEntity {
  overall: number;
  summary: string;
  judgeModel: string;
  rubric: string;
  transcriptItems: number;
  scoredAt: number;
  /** Every criterion as JSON (criteria beyond the standard four included). */
  scoresJson: string;
}

function toScore(e: ScoreEntity): SessionScore {
  return {
    agentId: String(e.partitionKey),
    sessionId: String(e.rowKey),
    scores: JSON.parse(e.scoresJson) as Record<string, CriterionScore>,
    overall: Number(e.overall),
    summary: e.summary,
    judgeModel: e.judgeModel,
    rubric: e.rubric,
    transcriptItems: Number(e.transcriptItems),
    scoredAt: Number(e.scoredAt),
  };
}

export function createScoreStore(
  config: StorageConfig,
  client: TableClient = tableClient(config, TABLES.scores),
): ScoreStore {
  return {
    async put(s) {
      // The standard criteria also get their own int columns, so Table queries can filter on them.
      const columns = Object.fromEntries(CRITERIA.map((c) => [c, s.scores[c]?.score ?? 0]));
      const entity: ScoreEntity = {
        partitionKey: safeKey(s.agentId),
        rowKey: safeKey(s.sessionId),
        ...columns,
        overall: s.overall,
        summary: s.summary.slice(0, 4000),
        judgeModel: s.judgeModel,
        rubric: s.rubric,
        transcriptItems: s.transcriptItems,
        scoredAt: s.scoredAt,
        scoresJson: JSON.stringify(s.scores).slice(0, 30_000),
      };
      await client.upsertEntity(entity, 'Replace');
    },
    async get(agentId, sessionId) {
      try {
        return toScore(await client.getEntity<ScoreEntity>(safeKey(agentId), safeKey(sessionId)));
      } catch (err) {
        if (isStorageStatus(err, 404)) return undefined;
        throw err;
      }
    },
    async listForAgent(agentId, limit = 100) {
      const out: SessionScore[] = [];
      const pk = safeKey(agentId).replace(/'/g, "''");
      for await (const e of client.listEntities<ScoreEntity>({
        queryOptions: { filter: odata`PartitionKey eq '${pk}'` },
      })) {
        out.push(toScore(e));
        if (out.length >= limit) break;
      }
      return out;
    },
  };
}
