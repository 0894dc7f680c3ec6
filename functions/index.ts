import functions from '@azure/functions';
import df from 'durable-functions';
import { loadFunctionsConfig } from '../shared/config/index';
import { createDeps } from './deps';
import { registerDurableLifecycle } from './durable/register';
import { buildRoutes } from './routes';
import { RETENTION_SCHEDULE, retentionTimer } from './timers/retention';
import { initTelemetry } from '../shared/telemetry/init';

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

// The session lifecycle: `session` entity, operation + supervisor orchestrations, effect activities. The emit
// activities run the same session-event pipeline as the handlers' lifecycle (push, session row, summary,
// metrics, judge), awaited inside the activity.
registerDurableLifecycle(config, {
  provider: deps.provider,
  publisher: deps.sessionEvents,
  log: (l) => console.log(l),
});
