import { AggregationTemporality, MetricReader } from '@opentelemetry/sdk-metrics';

/** A metric reader the test collects on demand (no export timers), cumulative like Azure Monitor's. */
export class OnDemandReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush() {}
  protected override async onShutdown() {}
}
