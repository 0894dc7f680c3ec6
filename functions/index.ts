import { app } from '@azure/functions';
import { loadFunctionsConfig } from '../shared/config/index';
import { createDeps } from './deps';
import { buildRoutes } from './routes';
import { RETENTION_SCHEDULE, retentionTimer } from './timers/retention';

// Configuration is validated at start-up: a bad setting stops the host with one message naming it.
const config = loadFunctionsConfig();
const deps = await createDeps(config);

for (const r of buildRoutes(deps)) {
  app.http(r.name, { methods: r.methods, route: r.route, authLevel: r.authLevel, handler: r.handler });
}

app.timer('historyRetention', { schedule: RETENTION_SCHEDULE, handler: retentionTimer(deps) });
