import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { AggregationTemporality, MetricReader } from '@opentelemetry/sdk-metrics';
import { initTelemetry } from '../shared/telemetry/init';
import { redact, redactString } from '../shared/telemetry/redact';
import { SessionTelemetry } from '../shared/telemetry/session';
import { report } from './report';

/**
 * What telemetry costs the worker per sideband event, per tool call and per log line: the worker sees every
 * event of every session (audio deltas included, as `{ type }`), so this is its hot path. Each mode runs the
 * same synthetic turns: off (no SDK registered) and on (SDK with in-memory exporter and metric reader).
 */
class Reader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush() {}
  protected override async onShutdown() {}
}

/** One spoken turn as the sideband sees it: VAD, ~5 s of answer audio in 100 ms deltas, transcript, usage. */
function turnEvents(): { type: string; [k: string]: unknown }[] {
  const events: { type: string; [k: string]: unknown }[] = [
    { type: 'input_audio_buffer.speech_started' },
    { type: 'input_audio_buffer.speech_stopped' },
    { type: 'response.created' },
  ];
  for (let i = 0; i < 50; i++)
    events.push({ type: 'response.output_audio.delta' }, { type: 'response.output_audio_transcript.delta' });
  events.push({
    type: 'response.done',
    response: {
      usage: {
        input_tokens: 420,
        output_tokens: 180,
        input_token_details: { text_tokens: 300, audio_tokens: 120 },
        output_token_details: { text_tokens: 40, audio_tokens: 140 },
      },
    },
  });
  return events;
}

async function measureEvents(turns: number): Promise<{ nsPerEvent: number; events: number }> {
  const events = turnEvents();
  let t = 0;
  const session = new SessionTelemetry({ sessionId: 'bench', agentId: 'concierge' }, () => t);
  const start = process.hrtime.bigint();
  for (let i = 0; i < turns; i++) for (const e of events) session.onServerEvent(e, (t += 10));
  const ns = Number(process.hrtime.bigint() - start);
  session.end();
  return { nsPerEvent: ns / (turns * events.length), events: turns * events.length };
}

async function measureTools(calls: number): Promise<number> {
  const session = new SessionTelemetry({ sessionId: 'bench', agentId: 'concierge' });
  const result = { output: '{}', isError: false, durationMs: 3 };
  const start = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) await session.toolCall({ name: 'get_time', callId: `c${i}` }, async () => result);
  session.end();
  return Number(process.hrtime.bigint() - start) / calls / 1000;
}

function measureRedaction(n: number): { lineNs: number; eventUs: number } {
  const line =
    'sideband 5b0f0c2e-8a0e-4c1f-9a55-3c1d2e4f5a6b server error rate_limit_exceeded: retry after 2 s (call rtc_abc123)';
  const event = {
    type: 'conversation.item.input_audio_transcription.completed',
    item_id: 'item_1',
    transcript: 'where is my order 1234',
    headers: { authorization: 'Bearer abc.def.ghi' },
  };
  let start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) redactString(line);
  const lineNs = Number(process.hrtime.bigint() - start) / n;
  start = process.hrtime.bigint();
  for (let i = 0; i < n / 10; i++) redact(event);
  const eventUs = Number(process.hrtime.bigint() - start) / (n / 10) / 1000;
  return { lineNs, eventUs };
}

const TURNS = 20_000;
const rows: Record<string, string | number>[] = [];
for (const mode of ['off', 'on'] as const) {
  const telemetry = await initTelemetry({
    config: { OTEL_EXPORTER: 'none' },
    serviceName: 'bench',
    ...(mode === 'on' ? { spanExporter: new InMemorySpanExporter(), metricReader: new Reader() } : {}),
  });
  await measureEvents(1000); // warm-up
  const ev = await measureEvents(TURNS);
  const toolUs = await measureTools(20_000);
  rows.push({
    telemetry: mode,
    'events measured': ev.events,
    'ns per sideband event': ev.nsPerEvent,
    'µs per tool-call span': toolUs,
  });
  await telemetry.shutdown();
}
const r = measureRedaction(200_000);
rows.push({
  telemetry: 'redaction',
  'ns per log line (redactString)': r.lineNs,
  'µs per event object (redact)': r.eventUs,
});
report('telemetry', rows, { turns: TURNS, eventsPerTurn: turnEvents().length });
