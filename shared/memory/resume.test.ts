import { describe, expect, it } from 'vitest';
import { canResume } from './resume';
import { addResponseUsage, emptyUsage, usagePatch } from './usage';

describe('canResume', () => {
  const now = 1_000_000;
  it('allows a session whose call never connected; asks to wait for one still active', () => {
    expect(canResume({ state: 'requested', createdAt: now - 3_600_000 }, now, 120)).toEqual({ ok: true });
    for (const state of ['accepting', 'attaching', 'live', 'ending'] as const) {
      expect(canResume({ state, createdAt: now }, now, 120)).toEqual({ ok: false, reason: 'still_active' });
    }
  });
  it('allows an ended session within the window and refuses it after', () => {
    expect(canResume({ state: 'ended', createdAt: 0, endedAt: now - 120_000 }, now, 120)).toEqual({ ok: true });
    expect(canResume({ state: 'ended', createdAt: 0, endedAt: now - 120_001 }, now, 120)).toEqual({ ok: false, reason: 'window_passed' });
  });
  it('refuses a failed session and honours a zero window', () => {
    expect(canResume({ state: 'failed', createdAt: now }, now, 120)).toEqual({ ok: false, reason: 'failed' });
    expect(canResume({ state: 'ended', createdAt: 0, endedAt: now - 1 }, now, 0).ok).toBe(false);
  });
});

describe('usage from response.done', () => {
  it('sums token counts, treating missing fields as zero', () => {
    const u = emptyUsage();
    addResponseUsage(u, { usage: { input_tokens: 100, output_tokens: 40, input_token_details: { audio_tokens: 80, cached_tokens: 10 }, output_token_details: { audio_tokens: 30 } } });
    addResponseUsage(u, { usage: { input_tokens: 5 } });
    addResponseUsage(u, undefined);
    expect(u).toEqual({ inputTokens: 105, outputTokens: 40, inputAudioTokens: 80, outputAudioTokens: 30, cachedTokens: 10, responses: 3 });
    expect(usagePatch(u)).toEqual({ inputTokens: 105, outputTokens: 40 });
  });
});
