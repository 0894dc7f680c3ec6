import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { odata, type TableEntity } from '@azure/data-tables';
import { isStorageStatus, tableClient, TABLES, type StorageConfig } from '../storage/tables';
import { agentPolicyIssues, policyFrom, type AgentPolicy, type PolicySettings } from './policy';
import { agentSchema, type AgentDefinition } from './schema';

export interface AgentStore {
  get(id: string): Promise<AgentDefinition | undefined>;
  list(): Promise<AgentDefinition[]>;
  /** The agent a SIP call reaches, by the called number (`+1800…`, `sip:+1800…@host`, `tel:…`). */
  bySipNumber(to: string): Promise<AgentDefinition | undefined>;
  /** Upserts definitions (validated again: the table never holds an invalid agent). */
  seed(defs: AgentDefinition[]): Promise<void>;
}

export interface AgentStoreOptions {
  /** How long the in-memory copy is trusted. Agents change rarely; every read is a storage transaction. */
  ttlMs?: number;
  now?: () => number;
  log?: (line: string) => void;
}

const PARTITION = 'agent';

interface AgentEntity extends TableEntity {
  definition: string;
  sipNumbers: string;
  updatedAt: string;
}

/** A definition that failed validation: names the file and the field so the fix is obvious. */
export class AgentDefinitionError extends Error {
  constructor(
    readonly file: string,
    readonly issues: { field: string; problem: string }[],
  ) {
    super(`${file}: ${issues.map((i) => `${i.field}: ${i.problem}`).join('; ')}`);
    this.name = 'AgentDefinitionError';
  }
}

/** Digits of the called number: `sip:+18005550100@sip.example;user=phone` → `18005550100`. */
export function normalizeNumber(to: string): string {
  let s = to.trim().replace(/^(sips?|tel):/i, '');
  s = s.split('@')[0]!.split(';')[0]!;
  return s.replace(/[^0-9]/g, '');
}

/**
 * Agents in the `agents` table, one entity each (the whole definition as JSON). The table is small, so the
 * store reads it whole and serves get/list/bySipNumber from memory for `ttlMs`.
 */
export function createAgentStore(config: StorageConfig & PolicySettings, opts: AgentStoreOptions = {}): AgentStore {
  const policy = policyFrom(config);
  const safeParse = (json: string) => parseStored(json, policy);
  const ttlMs = opts.ttlMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => {});
  const client = tableClient(config, TABLES.agents);
  let cache: { at: number; agents: Map<string, AgentDefinition> } | undefined;
  let loading: Promise<Map<string, AgentDefinition>> | undefined;

  async function load(): Promise<Map<string, AgentDefinition>> {
    const agents = new Map<string, AgentDefinition>();
    const iter = client.listEntities<AgentEntity>({ queryOptions: { filter: odata`PartitionKey eq '${PARTITION}'` } });
    for await (const e of iter) {
      const parsed = safeParse(e.definition);
      if (parsed) agents.set(parsed.id, parsed);
      else log(`agents: ignoring a stored definition that is invalid or breaks the agent policy: ${e.rowKey}`);
    }
    return agents;
  }

  async function all(): Promise<Map<string, AgentDefinition>> {
    if (cache && now() - cache.at < ttlMs) return cache.agents;
    // Past the TTL the cached copy is still served (up to ten TTLs) while one read refreshes it behind the
    // caller: a session start never waits for the agents table once it has been read.
    if (cache && now() - cache.at < ttlMs * 10) {
      void refresh().catch((err) => log(`agents: refresh failed, serving the cached copy: ${(err as Error).message}`));
      return cache.agents;
    }
    return refresh();
  }

  function refresh(): Promise<Map<string, AgentDefinition>> {
    // Concurrent callers share one read instead of each paying a transaction.
    loading ??= load().then(
      (agents) => {
        cache = { at: now(), agents };
        misses.clear();
        loading = undefined;
        return agents;
      },
      (err) => {
        loading = undefined;
        throw err;
      },
    );
    return loading;
  }

  // An id missing from the cached list may have been seeded since: one point read finds it, and a miss is
  // remembered for the TTL so unknown ids cannot turn every request into a storage read.
  const misses = new Map<string, number>();
  async function pointRead(id: string): Promise<AgentDefinition | undefined> {
    const missedAt = misses.get(id);
    if (missedAt !== undefined && now() - missedAt < ttlMs) return undefined;
    let def: AgentDefinition | undefined;
    try {
      def = safeParse((await client.getEntity<AgentEntity>(PARTITION, id)).definition);
    } catch (err) {
      if (!isStorageStatus(err, 404)) throw err;
    }
    if (!def) {
      if (misses.size > 1000) misses.clear();
      misses.set(id, now());
      return undefined;
    }
    cache?.agents.set(def.id, def);
    return def;
  }

  return {
    async get(id) {
      if (!/^[a-z][a-z0-9-]{1,47}$/.test(id)) return undefined;
      return (await all()).get(id) ?? pointRead(id);
    },
    async list() {
      return [...(await all()).values()].sort((a, b) => a.id.localeCompare(b.id));
    },
    async bySipNumber(to) {
      const digits = normalizeNumber(to);
      if (!digits) return undefined;
      for (const agent of (await all()).values()) {
        if (agent.sip.numbers.some((n) => normalizeNumber(n) === digits)) return agent;
      }
      return undefined;
    },
    async seed(defs) {
      for (const raw of defs) {
        const def = agentSchema.parse(raw);
        const issues = agentPolicyIssues(def, policy);
        if (issues.length) throw new AgentDefinitionError(def.id, issues);
        await client.upsertEntity<AgentEntity>(
          {
            partitionKey: PARTITION,
            rowKey: def.id,
            definition: JSON.stringify(def),
            sipNumbers: def.sip.numbers.join(','),
            updatedAt: new Date(now()).toISOString(),
          },
          'Replace',
        );
      }
      cache = undefined;
      misses.clear();
    },
  };
}

/** A stored definition is trusted no more than a file: it is validated and policy-checked on every load. */
function parseStored(json: string, policy: AgentPolicy): AgentDefinition | undefined {
  try {
    const r = agentSchema.safeParse(JSON.parse(json));
    return r.success && agentPolicyIssues(r.data, policy).length === 0 ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads and validates `agents/*.json`. The first broken file stops the load with the file and field named;
 * duplicate ids and a SIP number claimed by two agents are refused too (routing would be ambiguous).
 */
export async function loadAgentFiles(dir = 'agents'): Promise<AgentDefinition[]> {
  const root = resolve(dir);
  const files = (await readdir(root)).filter((f) => f.endsWith('.json')).sort();
  const defs: AgentDefinition[] = [];
  const ids = new Map<string, string>();
  const numbers = new Map<string, string>();
  for (const file of files) {
    const path = join(root, file);
    defs.push(parseAgentFile(file, await readFile(path, 'utf8')));
    const def = defs[defs.length - 1]!;
    const clash = ids.get(def.id);
    if (clash)
      throw new AgentDefinitionError(file, [{ field: 'id', problem: `"${def.id}" is already defined in ${clash}` }]);
    ids.set(def.id, file);
    def.sip.numbers.forEach((n, i) => {
      const owner = numbers.get(normalizeNumber(n));
      if (owner) {
        throw new AgentDefinitionError(file, [
          { field: `sip.numbers.${i}`, problem: `${n} already routes to ${owner}` },
        ]);
      }
      numbers.set(normalizeNumber(n), def.id);
    });
  }
  // A handoff to an agent that does not exist (or to itself) would strand the caller mid-call.
  for (const def of defs) {
    def.handoffs.forEach((to, i) => {
      if (to === def.id || !ids.has(to)) {
        const problem = to === def.id ? 'an agent cannot hand off to itself' : `no agent "${to}" is defined`;
        throw new AgentDefinitionError(ids.get(def.id)!, [{ field: `handoffs.${i}`, problem }]);
      }
    });
  }
  return defs;
}

/** Validates one definition's JSON text; `file` only labels the error. */
export function parseAgentFile(file: string, text: string): AgentDefinition {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new AgentDefinitionError(file, [{ field: '(file)', problem: `not valid JSON: ${(err as Error).message}` }]);
  }
  const r = agentSchema.safeParse(json);
  if (!r.success) {
    throw new AgentDefinitionError(
      file,
      r.error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(root)', problem: i.message })),
    );
  }
  const names = r.data.mcpServers.map((s) => s.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) {
    throw new AgentDefinitionError(file, [
      { field: `mcpServers.${names.lastIndexOf(dup)}.name`, problem: `"${dup}" is used by two servers` },
    ]);
  }
  return r.data;
}
