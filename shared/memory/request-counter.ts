import type { TableClient } from '@azure/data-tables';

export interface RequestCount {
  /** HTTP requests sent (an entity-group transaction is one request). */
  requests: number;
  byMethod: Record<string, number>;
  reset(): void;
}

/**
 * Counts the requests a TableClient sends, with a pipeline policy; used by tests and the memory bench to
 * report Table transactions per session.
 */
export function countRequests(client: TableClient): RequestCount {
  const count: RequestCount = {
    requests: 0,
    byMethod: {},
    reset() {
      count.requests = 0;
      count.byMethod = {};
    },
  };
  client.pipeline.addPolicy({
    name: 'memoryRequestCounter',
    async sendRequest(req, next) {
      count.requests++;
      const kind = req.url.includes('$batch') ? 'BATCH' : req.method;
      count.byMethod[kind] = (count.byMethod[kind] ?? 0) + 1;
      return next(req);
    },
  });
  return count;
}
