import type { SessionEventPublisher } from '../events/types';
import type { SessionPatch, SessionRow } from '../stores/sessions';
import { recordCost, recordCostAlert } from '../telemetry/metrics';
import type { PriceTable } from './prices';
import { costPatch, usageFromRow } from './session-cost';
import { CallCost, inputTokens, outputTokens } from './usage';

export interface CostRecorderDeps {
  sessions: {
    get(id: string): Promise<Partial<SessionRow> | undefined>;
    update(id: string, patch: SessionPatch): Promise<void>;
  };
  publisher: SessionEventPublisher;
  prices: PriceTable;
  /** COST_ALERT_USD: a call passing it is logged and counted once. */
  alertUsd?: number;
  /** Least time between two row writes of one call while it runs (the last one is written at the end). */
  rowIntervalMs?: number;
  log?: (line: string) => void;
  now?: () => number;
}

export interface SessionCostIds {
  sessionId: string;
  agentId: string;
  /** The model or deployment the session config names. */
  model: string;
}

export interface SessionCostObserver {
  /** Every sideband server event; only usage-bearing ones cost anything. */
  onServerEvent(event: object): void;
  /** The worker lets the call go: the last row write. */
  end(): Promise<void>;
  snapshot: CallCost['snapshot'];
}

/**
 * A call's running cost in the worker: pushed to the page after each billed response, added to the
 * `voice.session.cost` metric as it accrues, written to the session row at most every `rowIntervalMs` while the call
 * runs and once when the worker lets it go. A re-attached or resumed call continues from the usage on its row (one
 * read, off the attach path).
 */
export function createCostRecorder(deps: CostRecorderDeps) {
  const now = deps.now ?? Date.now;
  const log = deps.log ?? (() => {});
  const interval = deps.rowIntervalMs ?? 10_000;

  return function start(ids: SessionCostIds): SessionCostObserver {
    const cost = new CallCost(ids.model, deps.prices);
    let alerted = false;
    let reportedUsd = 0;
    let lastWrite = -Infinity;
    let dirty = false;
    let writing: Promise<void> = Promise.resolve();
    // The row's usage so far (earlier calls of a resumed session, the share of a lost worker).
    const base = deps.sessions
      .get(ids.sessionId)
      .then((row) => {
        if (!row) return;
        const before = usageFromRow(row);
        for (const m of ['text', 'audio', 'image'] as const)
          for (const k of ['input', 'cachedInput', 'output'] as const) cost.usage[m][k] += before[m][k];
        cost.setLiveSeconds(before.liveSeconds);
        alerted = row.costAlertAt !== undefined;
        reportedUsd = cost.snapshot().usd ?? 0;
        // The metric counts what accrued here; what the row held was counted where it accrued.
      })
      .catch((err) => log(`usage of ${ids.sessionId} so far unreadable: ${(err as Error).message}`));

    const write = (extra: SessionPatch = {}) => {
      dirty = false;
      lastWrite = now();
      const patch = { ...costPatch(cost.snapshot()), ...extra };
      writing = writing
        .then(() => base)
        .then(() => deps.sessions.update(ids.sessionId, patch))
        .catch((err) => log(`usage of ${ids.sessionId} not stored: ${(err as Error).message}`));
      return writing;
    };

    const changed = () => {
      const s = cost.snapshot();
      if (s.usd !== undefined && s.usd > reportedUsd) {
        recordCost(s.usd - reportedUsd, { agentId: ids.agentId, model: s.pricedAs });
        reportedUsd = s.usd;
      }
      let extra: SessionPatch | undefined;
      if (!alerted && deps.alertUsd !== undefined && s.usd !== undefined && s.usd >= deps.alertUsd) {
        alerted = true;
        extra = { costAlertAt: now() };
        recordCostAlert({ agentId: ids.agentId, model: s.pricedAs });
        log(
          `cost alert: session ${ids.sessionId} (agent ${ids.agentId}) passed $${deps.alertUsd} at $${s.usd.toFixed(4)}`,
        );
      }
      void deps.publisher.publish({
        type: 'cost',
        sessionId: ids.sessionId,
        usd: s.usd ?? null,
        currency: 'USD',
        inputTokens: inputTokens(s.usage),
        outputTokens: outputTokens(s.usage),
        alert: alerted,
        at: now(),
      });
      dirty = true;
      if (extra || now() - lastWrite >= interval) void write(extra);
    };

    return {
      onServerEvent(event) {
        if (cost.observe(event)) changed();
      },
      async end() {
        if (dirty) await write();
        else await writing;
      },
      snapshot: () => cost.snapshot(),
    };
  };
}
