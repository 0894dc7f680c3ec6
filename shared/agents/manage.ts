import { odata, type TableClient } from '@azure/data-tables';
import { HttpError } from '../http/errors';
import { isStorageStatus, tableClient, TABLES, type StorageConfig } from '../storage/tables';
import { agentPolicyIssues, policyFrom, type PolicySettings } from './policy';
import { PARTITION, VERSIONS, versionKey, type AgentEntity } from './rows';
import { agentSchema, type AgentDefinition } from './schema';
import { normalizeNumber } from './numbers';

type Issue = { field: string; problem: string };

/**
 * Every reason this JSON is not an acceptable agent definition: the schema (unknown top-level keys refused, not
 * dropped), two MCP servers of one name, and the agent policy (MCP URLs, header settings, managed-identity scopes).
 */
export function definitionIssues(raw: unknown, policy = policyFrom()): { def?: AgentDefinition; issues: Issue[] } {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { issues: [{ field: '(root)', problem: 'an agent definition object' }] };
  const known = new Set(Object.keys(agentSchema.shape));
  const unknown = Object.keys(raw).filter((k) => !known.has(k));
  if (unknown.length) return { issues: unknown.map((k) => ({ field: k, problem: 'unknown field' })) };
  const r = agentSchema.safeParse(raw);
  if (!r.success)
    return {
      issues: r.error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(root)', problem: i.message })),
    };
  const names = r.data.mcpServers.map((s) => s.name);
  const dup = names.findIndex((n, i) => names.indexOf(n) !== i);
  if (dup >= 0)
    return { issues: [{ field: `mcpServers.${dup}.name`, problem: `"${names[dup]}" is used by two servers` }] };
  const issues = agentPolicyIssues(r.data, policy);
  return issues.length ? { issues } : { def: r.data, issues: [] };
}

export type PutOutcome = 'created' | 'updated' | 'unchanged' | 'retired';

/**
 * Writes `def` as the agent's next version. The version being replaced is archived first (an idempotent upsert of
 * exactly what the current row holds, so racing writers archive the same thing), then the current row is replaced
 * under its ETag: of two concurrent changes one wins and the other gets 409 `agent_changed`.
 */
export async function putVersion(
  client: TableClient,
  def: AgentDefinition,
  opts: {
    now: () => number;
    /** `skip`: leave a retired agent alone (seeding); `revive`: the new version makes it live again. */
    ifRetired: 'skip' | 'revive';
    /** `create`: refuse when the agent is live; `update`: refuse when it is not; undefined: either. */
    expect?: 'create' | 'update';
    by?: string;
  },
): Promise<{ outcome: PutOutcome; version: number }> {
  const current = await readCurrent(client, def.id);
  const json = JSON.stringify(def);
  const row = (version: number): AgentEntity => ({
    partitionKey: PARTITION,
    rowKey: def.id,
    definition: json,
    sipNumbers: def.sip.numbers.join(','),
    updatedAt: new Date(opts.now()).toISOString(),
    version,
    retired: false,
    changedBy: opts.by ?? 'seed',
  });
  if (!current) {
    if (opts.expect === 'update') throw notFound(def.id);
    try {
      await client.createEntity(row(1));
    } catch (err) {
      if (isStorageStatus(err, 409)) throw changed(def.id);
      throw err;
    }
    return { outcome: 'created', version: 1 };
  }
  const version = current.version ?? 1;
  if (current.retired && opts.ifRetired === 'skip') return { outcome: 'retired', version };
  if (current.retired && opts.expect === 'update') throw notFound(def.id);
  if (!current.retired && opts.expect === 'create')
    throw new HttpError(409, 'agent_exists', `agent ${def.id} exists; change it with PUT`);
  if (!current.retired && current.definition === json) return { outcome: 'unchanged', version };
  await archive(client, current);
  try {
    await client.updateEntity(row(version + 1), 'Replace', { etag: current.etag });
  } catch (err) {
    if (isStorageStatus(err, 412)) throw changed(def.id);
    throw err;
  }
  return { outcome: current.retired ? 'created' : 'updated', version: version + 1 };
}

const notFound = (id: string) => new HttpError(404, 'not_found', `agent ${id} not found`);
const changed = (id: string) =>
  new HttpError(409, 'agent_changed', `agent ${id} was changed meanwhile; read it again and retry`);

async function readCurrent(client: TableClient, id: string): Promise<(AgentEntity & { etag: string }) | undefined> {
  try {
    return (await client.getEntity<AgentEntity>(PARTITION, id)) as AgentEntity & { etag: string };
  } catch (err) {
    if (isStorageStatus(err, 404)) return undefined;
    throw err;
  }
}

const archive = (client: TableClient, current: AgentEntity) =>
  client.upsertEntity<AgentEntity>(
    { ...current, partitionKey: VERSIONS, rowKey: versionKey(current.rowKey, current.version ?? 1) },
    'Replace',
  );

export interface ManagedAgent {
  id: string;
  version: number;
  retired: boolean;
  updatedAt: string;
  definition: AgentDefinition | null;
}

/** The operator's side of the agents table: create, change and retire definitions, each change a new version. */
export interface AgentManager {
  list(): Promise<ManagedAgent[]>;
  create(raw: unknown, by: string): Promise<{ id: string; version: number }>;
  update(id: string, raw: unknown, by: string): Promise<{ id: string; version: number }>;
  retire(id: string, by: string): Promise<{ id: string; version: number }>;
}

export function createAgentManager(
  config: StorageConfig & PolicySettings,
  opts: { now?: () => number; client?: TableClient; onChange?: () => void } = {},
): AgentManager {
  const client = opts.client ?? tableClient(config, TABLES.agents);
  const policy = policyFrom(config);
  const now = opts.now ?? Date.now;

  async function currentRows(): Promise<AgentEntity[]> {
    const rows: AgentEntity[] = [];
    for await (const e of client.listEntities<AgentEntity>({
      queryOptions: { filter: odata`PartitionKey eq ${PARTITION}` },
    }))
      rows.push(e);
    return rows;
  }

  async function validated(raw: unknown): Promise<AgentDefinition> {
    const { def, issues } = definitionIssues(raw, policy);
    if (!def) throw new HttpError(400, 'invalid_agent', `${issues[0]!.field}: ${issues[0]!.problem}`, issues);
    // A number routes to one agent: another live agent holding one of these makes routing ambiguous.
    const others = (await currentRows()).filter((r) => !r.retired && r.rowKey !== def.id);
    for (const [i, n] of def.sip.numbers.entries()) {
      const owner = others.find((r) =>
        r.sipNumbers.split(',').some((m) => m && normalizeNumber(m) === normalizeNumber(n)),
      );
      if (owner)
        throw new HttpError(409, 'sip_number_taken', `sip.numbers.${i}: ${n} already routes to ${owner.rowKey}`);
    }
    return def;
  }

  const done = <T>(v: T) => {
    opts.onChange?.();
    return v;
  };

  return {
    async list() {
      return (await currentRows())
        .map((r) => {
          const parsed = agentSchema.safeParse(JSON.parse(r.definition));
          return {
            id: r.rowKey,
            version: r.version ?? 1,
            retired: r.retired ?? false,
            updatedAt: r.updatedAt,
            definition: parsed.success ? parsed.data : null,
          };
        })
        .sort((a, b) => a.id.localeCompare(b.id));
    },
    async create(raw, by) {
      const def = await validated(raw);
      const { version } = await putVersion(client, def, { now, ifRetired: 'revive', expect: 'create', by });
      return done({ id: def.id, version });
    },
    async update(id, raw, by) {
      if (typeof raw === 'object' && raw !== null && 'id' in raw && raw.id !== id)
        throw new HttpError(400, 'invalid_agent', 'id: must be the id in the path');
      const def = await validated({ ...(raw as object), id });
      const { version } = await putVersion(client, def, { now, ifRetired: 'revive', expect: 'update', by });
      return done({ id, version });
    },
    async retire(id, by) {
      const current = await readCurrent(client, id);
      if (!current || current.retired) throw notFound(id);
      await archive(client, current);
      try {
        await client.updateEntity(
          {
            partitionKey: PARTITION,
            rowKey: id,
            retired: true,
            changedBy: by,
            updatedAt: new Date(now()).toISOString(),
          },
          'Merge',
          { etag: current.etag },
        );
      } catch (err) {
        if (isStorageStatus(err, 412)) throw changed(id);
        throw err;
      }
      return done({ id, version: current.version ?? 1 });
    },
  };
}
