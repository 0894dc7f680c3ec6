import functions from '@azure/functions';
import df from 'durable-functions';
import { createPublisher } from '../shared/events/webpubsub';
import { loadFunctionsConfig } from '../shared/config/index';
import { sharedPostSessionReads } from '../shared/memory/post-session-reads';
import { createDeps } from './deps';
import { registerDurableLifecycle } from './durable/register';
import { buildRoutes } from './routes';
import { RETENTION_SCHEDULE, retentionTimer } from './timers/retention';
import { withSessionBookkeeping } from '../shared/memory/post-session';
import { createSessionSummarizer } from '../shared/memory/summarize';
import { createSessionJudge } from '../shared/judge/judge';
import { withSessionJudge } from '../shared/judge/post-session';
import { initTelemetry } from '../shared/telemetry/init';
import { withSessionMetrics } from '../shared/telemetry/lifecycle-metrics';

// @azure/functions is CommonJS: its values are reached through the default export under ESM.
const { app } = functions;

// Configuration is validated at start-up: a bad setting stops the host with one message naming it.
const config = loadFunctionsConfig();
// App Insights (APPLICATIONINSIGHTS_CONNECTION_STRING) or OTEL_EXPORTER; off when neither is set.
await initTelemetry({ config, serviceName: 'functions' });
const deps = await createDeps(config);

for (const r of buildRoutes(deps)) {
  app.http(r.name, {
    methods: r.methods,
    route: r.route,
    authLevel: r.authLevel,
    handler: r.handler,
    // Handlers that signal the `session` entity need the Durable client binding.
    extraInputs: r.durableClient ? [df.input.durableClient()] : undefined,
  });
}

app.timer('historyRetention', {
  schedule: RETENTION_SCHEDULE,
  handler: retentionTimer(deps),
  // It purges finished lifecycle instances too (Durable client).
  extraInputs: [df.input.durableClient()],
});

// The session lifecycle: `session` entity, operation + supervisor orchestrations, effect activities.
// The emit activities also keep the session row in step (timings, end reason) and write the summary once
// the session has ended (memory), awaited inside the activity.
// The summarizer and the judge share one read of the ended session's row and transcript.
const postSession = sharedPostSessionReads(deps.sessions, deps.history);
const publisher = withSessionBookkeeping(createPublisher(config), {
  summarize: createSessionSummarizer(config, postSession),
  sessions: deps.sessions,
  awaitWork: true,
  log: (l) => console.log(l),
});
// Session metrics from the state events; the LLM-as-judge scores each ended session, awaited in the activity.
const observed = withSessionJudge(withSessionMetrics(publisher, { sessions: deps.sessions }), {
  judge: createSessionJudge(config, postSession),
  sampleRate: config.JUDGE_SAMPLE_RATE,
  awaitWork: true,
  log: (l) => console.log(l),
});
registerDurableLifecycle(config, { provider: deps.provider, publisher: observed, log: (l) => console.log(l) });
