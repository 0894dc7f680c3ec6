import { afterAll, describe, expect, it } from 'vitest';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { initTelemetry, withSpan, currentTraceparent, type Telemetry } from '../../shared/telemetry/index';

// No network: statsbeat off, ingestion pointed at a closed local port, no offline retry files.
process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED = 'true';
process.env.OTEL_NODE_RESOURCE_DETECTORS = 'env';

let telemetry: Telemetry | undefined;
afterAll(() => {
  // Not awaited: the distro's shutdown waits seconds on the unreachable ingestion endpoint; the fork exits anyway.
  void telemetry?.shutdown().catch(() => {});
});

describe('telemetry with APPLICATIONINSIGHTS_CONNECTION_STRING set', () => {
  it('initialises the Azure Monitor distro, which records spans with the service name', async () => {
    const spans = new InMemorySpanExporter();
    telemetry = await initTelemetry({
      config: {
        OTEL_EXPORTER: 'none',
        APPLICATIONINSIGHTS_CONNECTION_STRING:
          'InstrumentationKey=00000000-0000-0000-0000-000000000001;IngestionEndpoint=https://127.0.0.1:9/;LiveEndpoint=https://127.0.0.1:9/',
      },
      serviceName: 'worker',
      spanExporter: spans,
      azureMonitorExporter: { disableOfflineStorage: true },
    });
    expect(telemetry.mode).toBe('azure-monitor');
    let traceparent: string | undefined;
    await withSpan('probe', { 'session.id': 's-1' }, async () => {
      traceparent = currentTraceparent();
    });
    // Resource detection is asynchronous in the distro: spans reach exporters once it has settled. (Not
    // flush(): that waits for the Azure Monitor exporter to give up on the unreachable ingestion endpoint.)
    const deadline = Date.now() + 15_000;
    while (spans.getFinishedSpans().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const [span] = spans.getFinishedSpans();
    expect(span?.name).toBe('probe');
    expect(span?.resource.attributes['service.name']).toBe('worker');
    expect(traceparent).toContain(span!.spanContext().traceId);
  });
});
