import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { odata } from '@azure/data-tables';
import { isStorageStatus, tableClient, TABLES, type StorageConfig } from '../storage/tables';
import { agentPolicyIssues, policyFrom, type AgentPolicy, type PolicySettings } from './policy';
import { putVersion } from './manage';
import { normalizeNumber } from './numbers';
import { PARTITION, VERSIONS, versionKey, type AgentEntity } from './rows';
import { agentSchema, type AgentDefinition } from './schema';

/** A live definition with the version it is at (each change is a new version; see shared/agents/manage.ts). */
export type VersionedAgent = AgentDefinition & { version: number };

export { normalizeNumber };

export interface AgentStore {
  /** The agent's current version, unless retired. */
  get(id: string): Promise<VersionedAgent | undefined>;
  /** One version of an agent, retired or not: a session keeps the version it started with. */
  getVersion(id: string, version: number): Promise<VersionedAgent | undefined>;
  list(): Promise<VersionedAgent[]>;
  /** The agent a SIP call reaches, by the called number (`+1800…`, `sip:+1800…@host`, `tel:…`). */
  bySipNumber(to: string): Promise<VersionedAgent | undefined>;
  /** Forgets the cached copy (after this process changed an agent), so the next read sees the change. */
  invalidate(): void;
  /** Upserts definitions (validated again: the table never holds an invalid agent). */
  seed(defs: AgentDefinition[]): Promise<void>;
}

export interface AgentStoreOptions {
  /** How long the in-memory copy is trusted. Agents change rarely; every read is a storage transaction. */
  ttlMs?: number;
  now?: () => number;
  log?: (line: string) => void;
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
  let cache: { at: number; agents: Map<string, VersionedAgent> } | undefined;
  let loading: Promise<Map<string, VersionedAgent>> | undefined;
  // Versions never change once written: kept without a TTL (bounded).
  const versions = new Map<string, VersionedAgent>();

  const fromEntity = (e: AgentEntity): VersionedAgent | undefined => {
    const parsed = safeParse(e.definition);
    return parsed && { ...parsed, version: e.version ?? 1 };
  };

  async function load(): Promise<Map<string, VersionedAgent>> {
    const agents = new Map<string, VersionedAgent>();
    const iter = client.listEntities<AgentEntity>({ queryOptions: { filter: odata`PartitionKey eq '${PARTITION}'` } });
    for await (const e of iter) {
      if (e.retired) continue;
      const parsed = fromEntity(e);
      if (parsed) agents.set(parsed.id, parsed);
      else log(`agents: ignoring a stored definition that is invalid or breaks the agent policy: ${e.rowKey}`);
    }
    return agents;
  }

  async function all(): Promise<Map<string, VersionedAgent>> {
    if (cache && now() - cache.at < ttlMs) return cache.agents;
    // Past the TTL the cached copy is still served (up to ten TTLs) while one read refreshes it behind the
    // caller: a session start never waits for the agents table once it has been read.
    if (cache && now() - cache.at < ttlMs * 10) {
      void refresh().catch((err) => log(`agents: refresh failed, serving the cached copy: ${(err as Error).message}`));
      return cache.agents;
    }
    return refresh();
  }

  function refresh(): Promise<Map<string, VersionedAgent>> {
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
  async function pointRead(id: string): Promise<VersionedAgent | undefined> {
    const missedAt = misses.get(id);
    if (missedAt !== undefined && now() - missedAt < ttlMs) return undefined;
    let def: VersionedAgent | undefined;
    try {
      const e = await client.getEntity<AgentEntity>(PARTITION, id);
      def = e.retired ? undefined : fromEntity(e);
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
    async getVersion(id, version) {
      if (!/^[a-z][a-z0-9-]{1,47}$/.test(id) || !Number.isInteger(version) || version < 1) return undefined;
      const key = versionKey(id, version);
      const known = versions.get(key);
      if (known) return known;
      // The current row holds the current version; superseded ones were archived before they were replaced.
      const read = async (pk: string, rk: string) => {
        try {
          return await client.getEntity<AgentEntity>(pk, rk);
        } catch (err) {
          if (isStorageStatus(err, 404)) return undefined;
          throw err;
        }
      };
      const current = await read(PARTITION, id);
      const e = (current?.version ?? 1) === version ? current : await read(VERSIONS, key);
      const def = e && fromEntity({ ...e, version });
      if (def) {
        if (versions.size > 1000) versions.clear();
        versions.set(key, def);
      }
      return def;
    },
    async list() {
      return [...(await all()).values()].sort((a, b) => a.id.localeCompare(b.id));
    },
    invalidate() {
      cache = undefined;
      misses.clear();
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
        // A file is one more way to change an agent: a changed definition is a new version, an unchanged one
        // nothing; an agent an operator retired stays retired (a redeploy does not undo that).
        const { outcome } = await putVersion(client, def, { now, ifRetired: 'skip' });
        if (outcome === 'retired') log(`agents: ${def.id} is retired; its file was not seeded`);
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
