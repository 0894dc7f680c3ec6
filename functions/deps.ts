import type { InvocationContext } from '@azure/functions';
import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import { policyFrom } from '../shared/agents/policy';
import { createAgentStore, type AgentStore } from '../shared/agents/store';
import { buildSessionConfig } from '../shared/agents/session-config';
import { createAuthenticator, type Authenticator } from '../shared/auth/index';
import type { FunctionsConfig } from '../shared/config/index';
import { createWebPubSubClient } from '../shared/events/webpubsub';
import type { LifecyclePort, LifecycleState } from '../shared/lifecycle/operations';
import { createLifecycle, type LifecycleRuntime } from './lifecycle';
import { createPublisher } from '../shared/events/webpubsub';
import { createToolGateway } from '../shared/mcp/gateway';
import type { ToolGateway } from '../shared/mcp/types';
import { createProvider, type RealtimeProvider } from '../shared/providers/index';
import { createTokenBucket, type RateLimiter } from '../shared/ratelimit/token-bucket';
import { createToolRunCleanup, type ToolRunCleanup } from '../shared/stores/tool-run-cleanup';
import { createSessionStore, type SessionStore } from '../shared/stores/sessions';
import { createDeliveryStore, type DeliveryStore } from '../shared/stores/webhook-deliveries';
import { createWebhookVerifier, type WebhookVerifier } from '../shared/webhooks/standard-webhooks';
import { createToolData, type ToolData } from '../shared/tools/data';
import { createHistoryStore } from '../shared/memory/history-store';
import { sharedPostSessionReads } from '../shared/memory/post-session-reads';
import { withSessionBookkeeping } from '../shared/memory/post-session';
import { createSessionSummarizer } from '../shared/memory/summarize';
import type { MemoryStore } from '../shared/memory/types';
import { createSessionJudge } from '../shared/judge/judge';
import { withSessionJudge } from '../shared/judge/post-session';
import { withSessionMetrics } from '../shared/telemetry/lifecycle-metrics';

/**
 * Everything the handlers need, built once per process from configuration. Later features add their stores
 * and clients here so that handlers stay thin and tests can build the same object against Azurite.
 */
export interface AppDeps {
  config: FunctionsConfig;
  /** Agent definitions (Table `agents`, cached in memory). */
  agents: AgentStore;
  /** Orders, tickets and knowledge behind the built-in MCP server. */
  tools: ToolData;
  /** Session rows (Table `sessions`). */
  sessions: SessionStore;
  /** Conversation memory (Table `history`): transcripts and rolling summaries per caller. */
  history: MemoryStore;
  /** The realtime service (REALTIME_PROVIDER): token minting, SIP accept/reject. */
  provider: RealtimeProvider;
  /** Tools an agent's session config declares (MCP tools/list, cached). */
  toolGateway: Pick<ToolGateway, 'toolsFor'>;
  buildSessionConfig: typeof buildSessionConfig;
  /** Tool runs go with the history they belong to (forget-me, retention). */
  toolRunCleanup: ToolRunCleanup;
  /** Webhook exactly-once bookkeeping (Table `webhookdeliveries`). */
  deliveries: DeliveryStore;
  /** Establishes the caller per AUTH_MODE. */
  authenticate: Authenticator;
  /** Per-caller token bucket for POST /api/sessions (in-process). */
  sessionLimiter: RateLimiter;
  /** Standard Webhooks verifier over WEBHOOK_SECRETS; undefined when no secret is configured. */
  verifyWebhook?: WebhookVerifier;
  /** The session lifecycle; the Durable implementation needs the invocation's durable client binding. */
  lifecycle: (ctx: InvocationContext) => LifecyclePort;
  /** Authoritative lifecycle state for GET /api/sessions/{id}, when the lifecycle exposes it. */
  lifecycleState?: (
    sessionId: string,
  ) => Promise<{ state: LifecycleState; stateSince?: number; reason?: string } | undefined>;
  /** Web PubSub for GET /api/negotiate; undefined when neither WEBPUBSUB_ENDPOINT nor a connection string is set. */
  webPubSub?: WebPubSubServiceClient;
  /** The lifecycle behind `lifecycle` (LIFECYCLE_MODE): batched worker heartbeats, the local lifecycle, stop. */
  lifecycleRuntime?: LifecycleRuntime;
}

export async function createDeps(config: FunctionsConfig): Promise<AppDeps> {
  const provider = createProvider(config);
  // Durable: signals the `session` entity; local: the in-process lifecycle over Table Storage.
  const sessions = createSessionStore(config);
  const history = createHistoryStore(config);
  // Local lifecycle: the session row follows its state (timings, end reason) and is summarized once ended,
  // in the background (memory).
  const postSession = sharedPostSessionReads(sessions, history);
  const publisher = withSessionBookkeeping(createPublisher(config), {
    summarize: createSessionSummarizer(config, postSession),
    sessions,
    awaitWork: false,
    log: (l) => console.log(l),
  });
  // Session metrics from the state events; the LLM-as-judge scores each ended session (in the background).
  const observed = withSessionJudge(withSessionMetrics(publisher, { sessions }), {
    judge: createSessionJudge(config, postSession),
    sampleRate: config.JUDGE_SAMPLE_RATE,
    awaitWork: false,
    log: (l) => console.log(l),
  });
  const lifecycleRuntime = await createLifecycle(config, { provider, publisher: observed, log: (l) => console.log(l) });
  return {
    config,
    agents: createAgentStore(config),
    tools: createToolData(config),
    sessions,
    history,
    provider,
    toolGateway: createToolGateway(config, { urlPolicy: policyFrom(config) }),
    buildSessionConfig,
    deliveries: createDeliveryStore(config),
    toolRunCleanup: createToolRunCleanup(config),
    authenticate: createAuthenticator(config),
    webPubSub: createWebPubSubClient(config),
    sessionLimiter: createTokenBucket({ perMinute: config.RATE_LIMIT_PER_MINUTE }),
    verifyWebhook: config.WEBHOOK_SECRETS?.length ? createWebhookVerifier(config.WEBHOOK_SECRETS) : undefined,
    lifecycle: lifecycleRuntime.port,
    lifecycleState: lifecycleRuntime.state,
    lifecycleRuntime,
  };
}
