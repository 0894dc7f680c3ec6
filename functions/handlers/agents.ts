import type { HttpHandler } from '@azure/functions';
import type { AgentDefinition } from '../../shared/agents/schema';
import type { AgentStore } from '../../shared/agents/store';
import { notFound } from '../../shared/http/errors';
import type { RealtimeProvider } from '../../shared/providers/types';
import { ok } from '../edge';

export interface AgentsDeps {
  agents: Pick<AgentStore, 'list' | 'get'>;
  /** Whether the provider brokers the page's SDP (Live) or mints a token for it (Realtime). */
  provider?: Pick<RealtimeProvider, 'startWebrtcSession'>;
}

/**
 * What a browser may know about an agent: enough to pick one. Instructions, tools, MCP servers and SIP numbers
 * are business logic and stay server-side (they only ever reach the model inside a server-built session).
 */
export const publicAgent = (a: AgentDefinition, connect: 'sdp' | 'token' = 'token') => ({
  id: a.id,
  displayName: a.displayName,
  description: a.description,
  voice: a.voice,
  greeting: a.greeting ?? null,
  outputModalities: a.outputModalities,
  /** How the page starts a call: `sdp` (the offer goes to POST /api/sessions) or `token` (an ephemeral key). */
  connect,
});

const connectOf = (deps: AgentsDeps) => (deps.provider?.startWebrtcSession ? 'sdp' : 'token');

/** GET /api/agents */
export const listAgentsHandler =
  (deps: AgentsDeps): HttpHandler =>
  async () =>
    ok({ agents: (await deps.agents.list()).map((a) => publicAgent(a, connectOf(deps))) }, 200, {
      'cache-control': 'public, max-age=30',
    });

/** GET /api/agents/{id} */
export const getAgentHandler =
  (deps: AgentsDeps): HttpHandler =>
  async (req) => {
    const agent = await deps.agents.get(req.params.id ?? '');
    if (!agent) throw notFound(`agent ${req.params.id ?? ''}`);
    return ok(publicAgent(agent, connectOf(deps)), 200, { 'cache-control': 'public, max-age=30' });
  };
