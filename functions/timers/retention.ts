import type { InvocationContext, Timer } from '@azure/functions';
import { purgeExpiredHistory, type ForgetDeps } from '../../shared/memory/forget';
import type { LifecycleRuntime } from '../lifecycle';

/** Daily at 03:17 UTC (off the hour, away from other jobs' peaks). NCRONTAB with seconds. */
export const RETENTION_SCHEDULE = '0 17 3 * * *';

/** Timer function body: a thin adapter over purgeExpiredHistory (which is what the tests exercise). */
export function retentionTimer(
  deps: ForgetDeps & {
    config: { HISTORY_RETENTION_DAYS: number };
    lifecycle?: Pick<LifecycleRuntime, 'purgeBefore'>;
  },
) {
  return async (_timer: Timer, ctx: InvocationContext) => {
    const r = await purgeExpiredHistory(deps, deps.config.HISTORY_RETENTION_DAYS);
    // Finished lifecycle instances (operations, supervisors of ended sessions) hold user ids: same retention.
    const purged = await deps.lifecycle?.purgeBefore?.(ctx, new Date(r.cutoff));
    if (purged) ctx.log(`lifecycle retention: ${purged} finished instances purged`);
    ctx.log(
      `history retention (${deps.config.HISTORY_RETENTION_DAYS} days, cutoff ${new Date(r.cutoff).toISOString()}): ` +
        `${r.rows} rows in ${r.partitions} partitions, ${r.sessionSummariesCleared} session summaries cleared`,
    );
  };
}
