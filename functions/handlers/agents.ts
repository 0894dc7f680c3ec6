import type { HttpHandler } from '@azure/functions';
import type { AgentDefinition } from '../../shared/agents/schema';
import type { AgentStore } from '../../shared/agents/store';
import { notFound } from '../../shared/http/errors';
import { ok } from '../edge';

export interface AgentsDeps {
  agents: Pick<AgentStore, 'list' | 'get'>;
}

/**
 * What a browser may know about an agent: enough to pick one. Instructions, tools, MCP servers and SIP numbers
 * are business logic and stay server-side (they only ever reach the model inside a server-built session).
 */
export const publicAgent = (a: AgentDefinition) => ({
  id: a.id,
  displayName: a.displayName,
  description: a.description,
  voice: a.voice,
  greeting: a.greeting ?? null,
  outputModalities: a.outputModalities,
});

/** GET /api/agents */
export const listAgentsHandler =
  ({ agents }: AgentsDeps): HttpHandler =>
  async () =>
    ok({ agents: (await agents.list()).map(publicAgent) }, 200, { 'cache-control': 'public, max-age=30' });

/** GET /api/agents/{id} */
export const getAgentHandler =
  ({ agents }: AgentsDeps): HttpHandler =>
  async (req) => {
    const agent = await agents.get(req.params.id ?? '');
    if (!agent) throw notFound(`agent ${req.params.id ?? ''}`);
    return ok(publicAgent(agent), 200, { 'cache-control': 'public, max-age=30' });
  };
