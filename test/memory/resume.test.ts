import { describe, expect, it } from 'vitest';
import { canResume } from '../../shared/memory/resume';

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
    expect(canResume({ state: 'ended', createdAt: 0, endedAt: now - 120_001 }, now, 120)).toEqual({
      ok: false,
      reason: 'window_passed',
    });
  });
  it('refuses a failed session and honours a zero window', () => {
    expect(canResume({ state: 'failed', createdAt: now }, now, 120)).toEqual({ ok: false, reason: 'failed' });
    expect(canResume({ state: 'ended', createdAt: 0, endedAt: now - 1 }, now, 0).ok).toBe(false);
  });
});
