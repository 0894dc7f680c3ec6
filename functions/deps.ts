import { createDailyMinutes, type DailyMinutes } from '../shared/stores/daily-minutes';
import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import { policyFrom } from '../shared/agents/policy';
import { createAgentManager, type AgentManager } from '../shared/agents/manage';
import { createAgentStore, type AgentStore } from '../shared/agents/store';
import { buildSessionConfig } from '../shared/agents/session-config';
import { createAuthenticator, type Authenticator } from '../shared/auth/index';
import type { FunctionsConfig } from '../shared/config/index';
import { createWebPubSubClient } from '../shared/events/webpubsub';
import type { SessionEventPublisher } from '../shared/events/types';
import { createLifecycle, type LifecycleRuntime } from './lifecycle';
import { createSessionEvents } from './post-session';
import { createLazyToolGateway } from '../shared/mcp/lazy-gateway';
import type { ToolGateway } from '../shared/mcp/types';
import { createProvider, type RealtimeProvider } from '../shared/providers/index';
import { createTableRateLimiter } from '../shared/ratelimit/table-counter';
import { createTokenBucket, type RateLimiter, type SharedRateLimiter } from '../shared/ratelimit/token-bucket';
import { tableClient, TABLES } from '../shared/storage/tables';
import { createToolRunCleanup, type ToolRunCleanup } from '../shared/stores/tool-run-cleanup';
import { createOperatorAudit, type OperatorAudit } from '../shared/stores/operator-audit';
import { createSessionPartition } from '../shared/lifecycle/session-partition';
import { createSessionStore, type SessionStore } from '../shared/stores/sessions';
import { createDeliveryStore, type DeliveryStore } from '../shared/stores/webhook-deliveries';
import { createWebhookVerifier, type WebhookVerifier } from '../shared/webhooks/standard-webhooks';
import { createToolData, type ToolData } from '../shared/tools/data';
import { createHistoryStore } from '../shared/memory/history-store';
import type { MemoryStore } from '../shared/memory/types';

/**
 * Everything the handlers need, built once per process from configuration. Later features add their stores
 * and clients here so that handlers stay thin and tests can build the same object against Azurite.
 */
export interface AppDeps {
  config: FunctionsConfig;
  /** Agent definitions (Table `agents`, cached in memory). */
  agents: AgentStore;
  /** The operator's create / change / retire of agent definitions (each change a new version). */
  agentManager: AgentManager;
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
  /** Every operator action (Table `operatoraudit`, and a log line with the operator hashed). */
  audit: OperatorAudit;
  /** Webhook exactly-once bookkeeping (Table `webhookdeliveries`). */
  deliveries: DeliveryStore;
  /** Establishes the caller per AUTH_MODE. */
  authenticate: Authenticator;
  /** Per-caller token bucket for POST /api/sessions (in-process). */
  sessionLimiter: RateLimiter | SharedRateLimiter;
  /** Each user's call minutes today (DAILY_MINUTES_PER_USER). */
  dailyMinutes: DailyMinutes;
  /** Standard Webhooks verifier over WEBHOOK_SECRETS; undefined when no secret is configured. */
  verifyWebhook?: WebhookVerifier;
  /** Web PubSub for GET /api/negotiate; undefined when neither WEBPUBSUB_ENDPOINT nor a connection string is set. */
  webPubSub?: WebPubSubServiceClient;
  /**
   * The session lifecycle (LIFECYCLE_MODE): `port(ctx)` for operations (the Durable one needs the invocation's
   * durable client binding), batched worker heartbeats, the state when cheap to read, stop.
   */
  lifecycle: LifecycleRuntime;
  /** What each lifecycle state event sets off (push, session row, summary, metrics, judge); built once. */
  sessionEvents: SessionEventPublisher;
}

export async function createDeps(config: FunctionsConfig): Promise<AppDeps> {
  const provider = createProvider(config);
  const agents = createAgentStore(config);
  // Durable: signals the `session` entity; local: the in-process lifecycle, its records beside the session rows.
  const partition = config.LIFECYCLE_MODE === 'local' ? createSessionPartition(config) : undefined;
  const sessions = partition?.sessions ?? createSessionStore(config);
  const history = createHistoryStore(config);
  const sessionEvents = createSessionEvents(config, { sessions, history });
  const lifecycle = await createLifecycle(config, {
    provider,
    publisher: sessionEvents,
    store: partition?.lifecycle,
    log: (l) => console.log(l),
  });
  return {
    config,
    agents,
    // A change made here is seen by this instance's next session start at once; other instances within the
    // agent cache's TTL (30 s).
    agentManager: createAgentManager(config, { onChange: () => agents.invalidate() }),
    tools: createToolData(config),
    sessions,
    history,
    provider,
    toolGateway: createLazyToolGateway(config, { urlPolicy: policyFrom(config), secrets: config.mcpSecrets }),
    buildSessionConfig,
    deliveries: createDeliveryStore(config),
    audit: createOperatorAudit(config),
    toolRunCleanup: createToolRunCleanup(config),
    authenticate: createAuthenticator(config),
    webPubSub: createWebPubSubClient(config),
    dailyMinutes: createDailyMinutes(config),
    sessionLimiter:
      config.RATE_LIMIT_STORE === 'table'
        ? createTableRateLimiter({
            table: tableClient(config, TABLES.ratelimits),
            perMinute: config.RATE_LIMIT_PER_MINUTE,
          })
        : createTokenBucket({ perMinute: config.RATE_LIMIT_PER_MINUTE }),
    verifyWebhook: config.WEBHOOK_SECRETS?.length ? createWebhookVerifier(config.WEBHOOK_SECRETS) : undefined,
    lifecycle,
    sessionEvents,
  };
}
