import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import type { AgentDefinition } from './schema';

/**
 * What an agent definition may make the apps do with their credentials. Whoever can write the agents table
 * must not be able to send a secret, a managed-identity token or a caller's data anywhere they like: MCP URLs are
 * https and public (the built-in server excepted), managed-identity scopes come from an operator's allow-list, and
 * header values only from `MCP_SECRET_*` settings (the schema). Checked when agents are seeded and when loaded.
 */
export interface AgentPolicy {
  /** Scopes `managedIdentity` auth may ask tokens for (MCP_MANAGED_IDENTITY_SCOPES). */
  managedIdentityScopes: readonly string[];
  /** Local development only: http and loopback MCP URLs (test servers on 127.0.0.1). Never in Azure. */
  allowLoopback: boolean;
}

export interface PolicySettings {
  MCP_MANAGED_IDENTITY_SCOPES?: readonly string[];
  MCP_ALLOW_LOOPBACK_URLS?: boolean;
}

export const policyFrom = (c: PolicySettings = {}): AgentPolicy => ({
  managedIdentityScopes: c.MCP_MANAGED_IDENTITY_SCOPES ?? [],
  allowLoopback: c.MCP_ALLOW_LOOPBACK_URLS ?? false,
});

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** Addresses no agent may point a tool at: private, loopback, link-local (cloud metadata), CGNAT, reserved. */
const internal = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 3],
] as const)
  internal.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  internal.addSubnet(net, bits, 'ipv6');

function v4Mapped(ip: string): string | undefined {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m?.[1];
}

/** 'loopback' | 'internal' | undefined (public) for one IP literal. */
export function addressClass(ip: string): 'loopback' | 'internal' | undefined {
  const mapped = v4Mapped(ip);
  const addr = mapped ?? ip;
  const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
  if (loopback.check(addr, family)) return 'loopback';
  return internal.check(addr, family) ? 'internal' : undefined;
}

const INTERNAL_NAMES = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa)$/i;

/** Why this MCP URL is refused, or undefined. Names are checked again after DNS by `checkResolvedHost`. */
export function mcpUrlProblem(raw: string, policy: AgentPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not a URL';
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const ipClass = isIP(host) ? addressClass(host) : undefined;
  const isLoopbackName = host === 'localhost' || host.endsWith('.localhost');
  const local = policy.allowLoopback && (ipClass === 'loopback' || isLoopbackName);
  if (url.username || url.password) return 'credentials in the URL';
  if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) return 'must be https';
  if (local) return undefined;
  if (ipClass) return `${host} is a ${ipClass === 'loopback' ? 'loopback' : 'private or link-local'} address`;
  if (!isIP(host) && (INTERNAL_NAMES.test(host) || !host.includes('.'))) return `${host} is an internal name`;
  return undefined;
}

/** Every problem of one definition, named by field like schema errors. */
export function agentPolicyIssues(def: AgentDefinition, policy: AgentPolicy): { field: string; problem: string }[] {
  const issues: { field: string; problem: string }[] = [];
  def.mcpServers.forEach((s, i) => {
    if (s.url !== 'builtin') {
      const problem = mcpUrlProblem(s.url, policy);
      if (problem) issues.push({ field: `mcpServers.${i}.url`, problem });
    }
    if (s.auth.type === 'managedIdentity' && !policy.managedIdentityScopes.includes(s.auth.scope)) {
      issues.push({
        field: `mcpServers.${i}.auth.scope`,
        problem: `${s.auth.scope} is not in MCP_MANAGED_IDENTITY_SCOPES`,
      });
    }
  });
  return issues;
}

/**
 * At connect time a public name may still resolve to an internal address (or be re-pointed there later):
 * refuse the request when any address it resolves to is internal.
 */
export async function checkResolvedHost(raw: string, policy: AgentPolicy): Promise<void> {
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
  const addrs = isIP(host) ? [{ address: host }] : await lookup(host, { all: true });
  for (const { address } of addrs) {
    const c = addressClass(address);
    if (c && !(c === 'loopback' && policy.allowLoopback)) throw new Error(`${host} resolves to an internal address`);
  }
}
