import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TurnLatencyTracker, percentile } from '../../shared/telemetry/turn-latency';

describe('TurnLatencyTracker', () => {
  it('measures speech stopped → first audio delta, ignoring later deltas', () => {
    const t = new TurnLatencyTracker();
    expect(t.observe({ type: 'input_audio_buffer.speech_started' }, 1000)).toBeUndefined();
    expect(t.observe({ type: 'input_audio_buffer.speech_stopped', item_id: 'item_1' }, 2000)).toBeUndefined();
    expect(t.pending).toBe(true);
    expect(t.observe({ type: 'response.created' }, 2100)).toBeUndefined();
    const turn = t.observe({ type: 'response.output_audio.delta', response_id: 'resp_1' }, 2450);
    expect(turn).toEqual({ latencyMs: 450, responseId: 'resp_1', itemId: 'item_1', via: 'audio' });
    expect(t.observe({ type: 'response.output_audio.delta', response_id: 'resp_1' }, 2500)).toBeUndefined();
    expect(t.turns).toHaveLength(1);
    expect(t.pending).toBe(false);
  });

  it('accepts the beta event name and measures each turn separately', () => {
    const t = new TurnLatencyTracker();
    t.observe({ type: 'input_audio_buffer.speech_stopped' }, 0);
    t.observe({ type: 'response.audio.delta' }, 300);
    t.observe({ type: 'input_audio_buffer.speech_started' }, 1000);
    t.observe({ type: 'input_audio_buffer.speech_stopped' }, 1500);
    t.observe({ type: 'response.output_audio.delta' }, 2300);
    expect(t.turns.map((x) => x.latencyMs)).toEqual([300, 800]);
  });

  it('takes output_audio_buffer.started as first audio on WebRTC calls (no deltas there)', () => {
    const t = new TurnLatencyTracker();
    t.observe({ type: 'input_audio_buffer.speech_stopped' }, 1000);
    t.observe({ type: 'response.output_audio_transcript.delta' }, 1100);
    expect(t.observe({ type: 'output_audio_buffer.started', response_id: 'r9' }, 1380)).toMatchObject({
      latencyMs: 380,
      via: 'audio',
      responseId: 'r9',
    });
  });

  it('restarts the clock when the user resumes speaking before the answer', () => {
    const t = new TurnLatencyTracker();
    t.observe({ type: 'input_audio_buffer.speech_stopped' }, 0);
    t.observe({ type: 'input_audio_buffer.speech_started' }, 200);
    expect(t.pending).toBe(false);
    // A delta of an answer that was cut off, with no stop since: not a turn.
    expect(t.observe({ type: 'response.output_audio.delta' }, 250)).toBeUndefined();
    t.observe({ type: 'input_audio_buffer.speech_stopped' }, 900);
    expect(t.observe({ type: 'response.output_audio.delta' }, 1000)?.latencyMs).toBe(100);
  });

  it('counts text deltas for text agents unless told not to', () => {
    const withText = new TurnLatencyTracker();
    withText.observe({ type: 'input_audio_buffer.speech_stopped' }, 10);
    expect(withText.observe({ type: 'response.output_text.delta' }, 70)).toMatchObject({ latencyMs: 60, via: 'text' });
    const audioOnly = new TurnLatencyTracker({ countText: false });
    audioOnly.observe({ type: 'input_audio_buffer.speech_stopped' }, 10);
    expect(audioOnly.observe({ type: 'response.output_text.delta' }, 70)).toBeUndefined();
    expect(audioOnly.observe({ type: 'response.output_audio.delta' }, 90)?.latencyMs).toBe(80);
  });

  it('never reports a negative latency and ignores malformed events', () => {
    const t = new TurnLatencyTracker();
    expect(t.observe({}, 5)).toBeUndefined();
    expect(t.observe({ type: 42 }, 5)).toBeUndefined();
    t.observe({ type: 'input_audio_buffer.speech_stopped' }, 100);
    expect(t.observe({ type: 'response.output_audio.delta' }, 90)?.latencyMs).toBe(0);
  });

  it('property: one turn per stop that is followed by a delta, latency = delta time - last stop', () => {
    const ev = fc.constantFrom(
      'input_audio_buffer.speech_started',
      'input_audio_buffer.speech_stopped',
      'response.output_audio.delta',
      'response.done',
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(ev, fc.integer({ min: 0, max: 5000 })), { maxLength: 60 }), (steps) => {
        const t = new TurnLatencyTracker();
        let now = 0;
        let stop: number | undefined;
        const expected: number[] = [];
        for (const [type, gap] of steps) {
          now += gap;
          if (type === 'input_audio_buffer.speech_started') stop = undefined;
          else if (type === 'input_audio_buffer.speech_stopped') stop = now;
          else if (type === 'response.output_audio.delta' && stop !== undefined) {
            expected.push(now - stop);
            stop = undefined;
          }
          t.observe({ type }, now);
        }
        expect(t.turns.map((x) => x.latencyMs)).toEqual(expected);
      }),
    );
  });
});

describe('percentile', () => {
  it('uses nearest rank', () => {
    expect(percentile([], 50)).toBeUndefined();
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([10, 1, 9, 2, 8, 3, 7, 4, 6, 5], 95)).toBe(10);
    expect(percentile([3, 1, 2], 0)).toBe(1);
  });
});
