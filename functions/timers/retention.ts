import type { InvocationContext, Timer } from '@azure/functions';
import { DAY_MS, purgeExpiredHistory, type ForgetDeps } from '../../shared/memory/forget';
import type { DeliveryStore } from '../../shared/stores/webhook-deliveries';
import type { LifecycleRuntime } from '../lifecycle';

/** Daily at 03:17 UTC (off the hour, away from other jobs' peaks). NCRONTAB with seconds. */
export const RETENTION_SCHEDULE = '0 17 3 * * *';

/**
 * Webhook delivery records only have to outlive the sender's retries (OpenAI retries for up to 72 hours);
 * a week leaves a margin, after which a delivery id cannot come back and its row is only cost.
 */
export const DELIVERY_RETENTION_MS = 7 * DAY_MS;

/** Timer function body: a thin adapter over purgeExpiredHistory (which is what the tests exercise). */
export function retentionTimer(
  deps: ForgetDeps & {
    config: { HISTORY_RETENTION_DAYS: number };
    deliveries?: Pick<DeliveryStore, 'purgeBefore'>;
    lifecycle?: Pick<LifecycleRuntime, 'purgeBefore'>;
    now?: () => number;
  },
) {
  return async (_timer: Timer, ctx: InvocationContext) => {
    const now = deps.now?.() ?? Date.now();
    const r = await purgeExpiredHistory(deps, deps.config.HISTORY_RETENTION_DAYS, now);
    ctx.log(
      `history retention (${deps.config.HISTORY_RETENTION_DAYS} days, cutoff ${new Date(r.cutoff).toISOString()}): ` +
        `${r.rows} rows in ${r.partitions} partitions, ${r.sessionSummariesCleared} session summaries cleared`,
    );
    // Finished lifecycle instances (operations, supervisors of ended sessions) hold user ids: same retention.
    const purged = await deps.lifecycle?.purgeBefore?.(ctx, new Date(r.cutoff));
    if (purged) ctx.log(`lifecycle retention: ${purged} finished instances purged`);
    if (deps.deliveries) {
      const removed = await deps.deliveries.purgeBefore(now - DELIVERY_RETENTION_MS);
      ctx.log(`webhook delivery retention (7 days): ${removed} delivery records removed`);
    }
  };
}
