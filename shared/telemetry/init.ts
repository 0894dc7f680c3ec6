import { context, metrics, propagation, trace, diag } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import {
  ConsoleMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricReader,
} from '@opentelemetry/sdk-metrics';
import type { CommonConfig } from '../config/index';

export type TelemetryConfig = Pick<CommonConfig, 'APPLICATIONINSIGHTS_CONNECTION_STRING' | 'OTEL_EXPORTER'> &
  Partial<Pick<CommonConfig, 'AZURE_CLIENT_ID' | 'LOG_TRANSCRIPTS'>>;

export type TelemetryMode = 'azure-monitor' | 'console' | 'otlp' | 'test' | 'none';

export interface TelemetryOptions {
  config: TelemetryConfig;
  /** `service.name` (App Insights cloud role name): e.g. `functions`, `worker`. */
  serviceName: string;
  /** Tests: spans go here (synchronously, SimpleSpanProcessor) in addition to any configured exporter. */
  spanExporter?: SpanExporter;
  /** Tests: an extra metric reader (e.g. one that is collected on demand). */
  metricReader?: MetricReader;
  /** Extra Azure Monitor exporter options (tests: `disableOfflineStorage`). */
  azureMonitorExporter?: Record<string, unknown>;
  /** Metric export interval for console/otlp (ms). */
  exportIntervalMs?: number;
}

export interface Telemetry {
  readonly mode: TelemetryMode;
  readonly serviceName: string;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

let current: Telemetry | undefined;

/**
 * Sets up OpenTelemetry once per process:
 * - APPLICATIONINSIGHTS_CONNECTION_STRING set → the Azure Monitor distro (applicationinsights v3), keyless
 *   (Entra) ingestion when a managed identity is configured (AZURE_CLIENT_ID);
 * - otherwise OTEL_EXPORTER=console|otlp → a local SDK with that exporter (OTLP reads the standard
 *   OTEL_EXPORTER_OTLP_* variables);
 * - otherwise nothing is registered and every helper is a cheap no-op.
 * A second call returns the first result (the Functions host may load modules more than once).
 */
export async function initTelemetry(opts: TelemetryOptions): Promise<Telemetry> {
  if (current) return current;
  const { config, serviceName } = opts;
  const resource = resourceFromAttributes({
    'service.name': serviceName,
    'service.namespace': 'realtime-voice-agents',
  });
  const extraSpans: SpanProcessor[] = opts.spanExporter ? [new SimpleSpanProcessor(opts.spanExporter)] : [];
  const extraReaders: MetricReader[] = opts.metricReader ? [opts.metricReader] : [];

  if (config.APPLICATIONINSIGHTS_CONNECTION_STRING) {
    // Loaded lazily: the distro is heavy and pointless when telemetry is off. It is CommonJS with __esModule
    // set, so depending on the loader its functions are on the namespace or on `default`.
    const mod = (await import('applicationinsights')) as typeof import('applicationinsights') & {
      default?: typeof import('applicationinsights');
    };
    const appInsights = typeof mod.useAzureMonitor === 'function' ? mod : mod.default!;
    let credential: import('@azure/identity').TokenCredential | undefined;
    if (config.AZURE_CLIENT_ID) {
      const { ManagedIdentityCredential } = await import('@azure/identity');
      credential = new ManagedIdentityCredential({ clientId: config.AZURE_CLIENT_ID });
    }
    appInsights.useAzureMonitor({
      azureMonitorExporterOptions: {
        ...opts.azureMonitorExporter,
        connectionString: config.APPLICATIONINSIGHTS_CONNECTION_STRING,
        ...(credential ? { credential } : {}),
      },
      resource,
      // Sessions are few and long; a trace is only useful whole, so sample every one (the distro's default
      // rate limit would drop the first spans of a session at random).
      samplingRatio: 1,
      tracesPerSecond: 0,
      spanProcessors: extraSpans,
      metricReaders: extraReaders,
      enableLiveMetrics: true,
    });
    current = {
      mode: 'azure-monitor',
      serviceName,
      flush: () => appInsights.flushAzureMonitor(),
      shutdown: async () => {
        await appInsights.shutdownAzureMonitor();
        reset();
      },
    };
    return current;
  }

  const exporter = config.OTEL_EXPORTER;
  if (exporter === 'none' && !opts.spanExporter && !opts.metricReader) {
    current = { mode: 'none', serviceName, flush: async () => {}, shutdown: async () => reset() };
    return current;
  }

  const spanProcessors: SpanProcessor[] = [...extraSpans];
  const readers: MetricReader[] = [...extraReaders];
  // OTEL_METRIC_EXPORT_INTERVAL is the standard variable; the SDK's reader does not read it by itself.
  const interval = opts.exportIntervalMs ?? (Number(process.env.OTEL_METRIC_EXPORT_INTERVAL) || 15_000);
  if (exporter === 'console') {
    spanProcessors.push(new SimpleSpanProcessor(new ConsoleSpanExporter()));
    readers.push(
      new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: interval }),
    );
  } else if (exporter === 'otlp') {
    const [{ OTLPTraceExporter }, { OTLPMetricExporter }] = await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/exporter-metrics-otlp-http'),
    ]);
    spanProcessors.push(new BatchSpanProcessor(new OTLPTraceExporter()));
    readers.push(
      new PeriodicExportingMetricReader({ exporter: new OTLPMetricExporter(), exportIntervalMillis: interval }),
    );
  }

  const tracerProvider = new NodeTracerProvider({ resource, spanProcessors });
  // register(): global tracer provider + AsyncLocalStorage context manager + W3C propagator.
  tracerProvider.register({ propagator: new W3CTraceContextPropagator() });
  const meterProvider = new MeterProvider({ resource, readers });
  metrics.setGlobalMeterProvider(meterProvider);

  current = {
    mode: exporter === 'none' ? 'test' : exporter,
    serviceName,
    flush: async () => {
      await Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    },
    shutdown: async () => {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
      reset();
    },
  };
  return current;
}

/** The telemetry set up by initTelemetry, if any. */
export const currentTelemetry = (): Telemetry | undefined => current;

function reset() {
  current = undefined;
  // Unregister globals so a later initTelemetry (tests) can register fresh providers.
  trace.disable();
  metrics.disable();
  propagation.disable();
  context.disable();
  diag.disable();
}
