import { describe, expect, it } from 'vitest';
import { inJudgeSample, withSessionJudge } from '../../shared/judge/post-session';

describe('judge sampling (JUDGE_SAMPLE_RATE)', () => {
  it('judges about the configured share, the same decision every time for a session', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => `session-${i}`);
    const picked = ids.filter((id) => inJudgeSample(id, 0.25));
    expect(picked.length / ids.length).toBeGreaterThan(0.2);
    expect(picked.length / ids.length).toBeLessThan(0.3);
    expect(ids.filter((id) => inJudgeSample(id, 0.25))).toEqual(picked);
    expect(ids.every((id) => inJudgeSample(id, 1))).toBe(true);
    expect(ids.some((id) => inJudgeSample(id, 0))).toBe(false);
  });

  it('skips the judge for sessions outside the sample, still publishing every event', async () => {
    const judged: string[] = [];
    const published: string[] = [];
    const pub = withSessionJudge(
      { publish: async (e) => void published.push(e.sessionId) },
      { judge: async (id) => (judged.push(id), { status: 'skipped' } as never), awaitWork: true, sampleRate: 0.5 },
    );
    const ids = Array.from({ length: 40 }, (_, i) => `s${i}`);
    for (const id of ids) await pub.publish({ type: 'state', sessionId: id, state: 'ended', at: 1 });
    expect(published).toEqual(ids);
    expect(judged).toEqual(ids.filter((id) => inJudgeSample(id, 0.5)));
    expect(judged.length).toBeGreaterThan(0);
    expect(judged.length).toBeLessThan(ids.length);
  });
});
