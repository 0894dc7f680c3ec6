/**
 * What a task hub did, counted as it ran, and what that costs on each backend. Work items: orchestrator
 * episodes, entity batches and activity executions (what a worker dequeues and runs). Messages: everything
 * sent through a queue (starts, completions, timers, entity requests, responses and signals).
 */
export interface HubCounters {
  workItems: { orchestrator: number; entity: number; activity: number };
  messages: number;
  /** Orchestration and entity checkpoints (a history append + an instance-row update each). */
  checkpoints: number;
  entityOperations: number;
  continuedAsNew: number;
  redelivered: number;
  episodes: Record<string, number>;
  activities: Record<string, number>;
}

export const counters = (): HubCounters => ({
  workItems: { orchestrator: 0, entity: 0, activity: 0 },
  messages: 0,
  checkpoints: 0,
  entityOperations: 0,
  continuedAsNew: 0,
  redelivered: 0,
  episodes: {},
  activities: {},
});

export const workItems = (c: HubCounters) => c.workItems.orchestrator + c.workItems.entity + c.workItems.activity;

/**
 * Storage transactions the Azure Storage provider spends for this work, from its documented mechanics (an
 * estimate, not a measurement): each queue message is put, got and deleted (3); each orchestrator episode and
 * entity batch reads its history (1, no extended sessions), appends to it (1 entity-group batch) and updates its
 * instance row (1). Large-message blobs and lease renewals are left out (none of our messages reach 45 KB).
 */
export function storageTransactions(c: HubCounters): number {
  return c.messages * 3 + (c.workItems.orchestrator + c.workItems.entity) * 3;
}

/**
 * Idle cost of the Azure Storage provider per hour and per Function app instance: it polls its control queues
 * (partitionCount) and the work-item queue, backing off to `maxQueuePollingInterval` when they stay empty.
 */
export function storageIdlePerHour(partitions = 4, maxPollingSeconds = 5): number {
  return Math.round((3600 / maxPollingSeconds) * (partitions + 1));
}
