import { describe, expect, it } from 'vitest';
import {
  initTelemetry,
  withSpan,
  injectTraceHeaders,
  SessionTelemetry,
  recordToolCall,
  currentTelemetry,
} from '../../shared/telemetry/index';

describe('telemetry off (no connection string, OTEL_EXPORTER=none)', () => {
  it('registers nothing and every helper still works as a no-op', async () => {
    const t = await initTelemetry({ config: { OTEL_EXPORTER: 'none' }, serviceName: 'worker' });
    expect(t.mode).toBe('none');
    expect(await initTelemetry({ config: { OTEL_EXPORTER: 'console' }, serviceName: 'worker' })).toBe(t);
    expect(currentTelemetry()).toBe(t);
    expect(await withSpan('x', { a: 1 }, async () => 7)).toBe(7);
    // No active span → no traceparent invented.
    expect(injectTraceHeaders({}).traceparent).toBeUndefined();
    const s = new SessionTelemetry({ sessionId: 's', agentId: 'a' });
    s.onServerEvent({ type: 'input_audio_buffer.speech_stopped' }, 0);
    expect(s.onServerEvent({ type: 'response.output_audio.delta' }, 5)?.latencyMs).toBe(5);
    recordToolCall({ tool: 't', durationMs: 1, isError: true });
    s.end();
    await t.flush();
    await t.shutdown();
    expect(currentTelemetry()).toBeUndefined();
  });
});
