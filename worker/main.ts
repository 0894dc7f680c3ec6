import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { buildSessionConfig } from '../shared/agents/session-config';
import { policyFrom } from '../shared/agents/policy';
import { createAgentStore } from '../shared/agents/store';
import { ConfigError, loadWorkerConfig } from '../shared/config/index';
import { createPublisher } from '../shared/events/webpubsub';
import { createToolGateway } from '../shared/mcp/gateway';
import { createWorkerSeeder } from '../shared/memory/context';
import { createHistoryStore } from '../shared/memory/history-store';
import { createProvider } from '../shared/providers/index';
import { createCostRecorder } from '../shared/cost/recorder';
import { createSessionStore } from '../shared/stores/sessions';
import { voiceMetrics } from '../shared/telemetry/metrics';
import { SessionTelemetry } from '../shared/telemetry/session';
import { initTelemetry } from '../shared/telemetry/init';
import { injectTraceHeaders } from '../shared/telemetry/tracing';
import { redactString } from '../shared/telemetry/redact';
import { createCallStore } from '../shared/stores/calls';
import { createTableToolRunStore } from '../shared/stores/tool-runs';
import { WorkerCore } from './core';
import { createWorkerLifecycle } from './lifecycle-client';
import { startWorkerServer } from './server';
import { filtersDataChannel, pageRelay } from './page-relay';
import { sessionLock } from './session-lock';
import { transfers } from './transfer';
import { dtmf } from './dtmf';
import { callLimits } from './call-limits';
import { phoneGreeting } from './phone-greeting';
import type { SessionObserver } from './sideband';

/**
 * The sideband worker process (a Container Apps app; locally a supervised child of the stack). Exits 1 with
 * one line naming the setting when the configuration is invalid.
 */
async function main() {
  const config = loadWorkerConfig();
  // App Insights (APPLICATIONINSIGHTS_CONNECTION_STRING) or OTEL_EXPORTER; off when neither is set.
  await initTelemetry({ config, serviceName: 'worker' });
  // Lines can quote upstream errors and URLs: keys and tokens are scrubbed before they leave the process.
  const log = (line: string) => console.log(`[worker ${workerId}] ${redactString(line)}`);
  // The replica name is stable per replica in Container Apps; the suffix tells restarts apart.
  const workerId = `${process.env.CONTAINER_APP_REPLICA_NAME ?? hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const provider = createProvider(config);
  const history = createHistoryStore(config);
  const toolRuns = createTableToolRunStore(config);
  const sessions = createSessionStore(config);
  await toolRuns.ensureTable();
  const publisher = createPublisher(config, { onError: (err) => log(`publish failed: ${(err as Error).message}`) });
  const costs = createCostRecorder({
    sessions,
    publisher,
    prices: config.PRICE_TABLE,
    alertUsd: config.COST_ALERT_USD,
    log,
  });
  // The page's data channel is filtered (Azure `webrtcfilter=on`): what it leaves out reaches the page from here.
  const filtered = (() => {
    try {
      return filtersDataChannel(provider.connectUrls(config.REALTIME_MODEL).webrtcUrl);
    } catch {
      return false; // a provider without WebRTC
    }
  })();

  const lifecycle = createWorkerLifecycle({
    functionsBaseUrl: config.FUNCTIONS_BASE_URL,
    secret: config.WORKER_AUTH_SECRET,
  });
  const core = new WorkerCore({
    workerId,
    provider: config.REALTIME_PROVIDER,
    openSideband: (callId) => provider.openSideband(callId),
    agents: createAgentStore(config),
    // MCP requests carry the active tool span's traceparent, so the MCP server's spans join the session trace.
    gateway: createToolGateway(config, {
      secrets: config.mcpSecrets,
      log,
      headers: () => injectTraceHeaders({}),
      urlPolicy: policyFrom(config),
    }),
    sessionConfig: (agent, tools, sessionId, transport) =>
      buildSessionConfig(agent, tools, { model: config.REALTIME_MODEL, sessionId, transport }),
    onAgentChanged: (sessionId, agentId) => sessions.update(sessionId, { currentAgentId: agentId }),
    history,
    publisher,
    extensions: [
      pageRelay({ publisher, enabled: (a) => filtered && a.transport === 'webrtc', now: Date.now, log }),
      sessionLock({
        workerId,
        report: (sessionId, report) => lifecycle.report(sessionId, report),
        onOverride: (e) => voiceMetrics().sessionOverrides.add(1, { agent: e.agentId, outcome: e.outcome }),
        log,
      }),
      transfers({
        workerId,
        refer: (callId, uri) => provider.referCall(callId, uri),
        report: (sessionId, report) => lifecycle.report(sessionId, report),
      }),
      dtmf(),
      phoneGreeting(),
      callLimits({
        workerId,
        report: (sessionId, report) => lifecycle.report(sessionId, report),
        onLimit: (e) => log(`limit reached for agent ${e.agentId}: ${e.outcome}`),
      }),
    ],
    toolRuns,
    calls: createCallStore(config),
    lifecycle,
    // Reads the session row's `resume` (POST /api/sessions `resume: false` → no earlier sessions) and
    // budgets with MEMORY_SEED_TOKENS / MEMORY_SEED_TURNS.
    seed: createWorkerSeeder({ history, sessions, config }),
    // The same row gives the history partition; the core passes its `resume` on to the seeder.
    sessionInfo: (id) => sessions.get(id),
    // Per session: OpenTelemetry span/turn latency/tool spans (no-ops until telemetry is initialised) and the
    // call's usage and cost (pushed to the page, on the session row while it runs and at the end, as a metric).
    observe: (ids): SessionObserver => {
      const telemetry = new SessionTelemetry(ids);
      const cost = costs({ sessionId: ids.sessionId, agentId: ids.agentId, model: ids.model ?? config.REALTIME_MODEL });
      return {
        onServerEvent: (event, at) => {
          telemetry.onServerEvent(event, at);
          cost.onServerEvent(event);
        },
        toolCall: (call, fn) => telemetry.toolCall(call, fn),
        reconnected: (reason) => telemetry.reconnected(reason),
        end: async (outcome) => {
          telemetry.end(outcome);
          await cost.end();
        },
      };
    },
    identitySecret: config.WORKER_AUTH_SECRET,
    toolCallsPerSession: config.MCP_TOOL_CALLS_PER_SESSION,
    rawToolOutputToPage: config.DEBUG_TOOL_OUTPUT_TO_PAGE,
    maxSessions: config.MAX_SESSIONS,
    heartbeatIntervalMs: config.HEARTBEAT_INTERVAL_SECONDS * 1000,
    logTranscripts: config.LOG_TRANSCRIPTS,
    log,
  });
  core.start();

  let draining: Promise<void> | undefined;
  const drainAndExit = (why: string) => {
    if (draining) return;
    log(`${why}: draining`);
    // Container Apps gives a replica 30 s after SIGTERM by default; leave room for the last batch.
    draining = core
      .drain(Math.min(20_000, config.HEARTBEAT_INTERVAL_SECONDS * 4000))
      .then(() => core.stop())
      .finally(() => {
        log('drained; exiting');
        process.exit(0);
      });
  };

  const server = await startWorkerServer({
    core,
    secret: config.WORKER_AUTH_SECRET,
    port: config.PORT,
    host: config.LISTEN_HOST,
    onDrain: () => drainAndExit('POST /drain'),
    log,
  });
  log(`listening on ${server.port}`);
  process.on('SIGTERM', () => drainAndExit('SIGTERM'));
  process.on('SIGINT', () => drainAndExit('SIGINT'));
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
