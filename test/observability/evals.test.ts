import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHarness, type HarnessResult } from '../../evals/lib/harness';
import { loadSuites } from '../../evals/lib/suite';

/**
 * `npm run eval` end to end on the local stack (free ports): every shipped suite (evals/*.json) passes,
 * the deliberately wrong suite (evals/negative) fails — each scenario for its own intended reason — and
 * both reports are written.
 */
let out: string;
let result: HarnessResult;

/** Which check each wrong scenario must fail on (so it cannot "fail" for an unrelated reason, e.g. a crash). */
const INTENDED_FAILURE: Record<string, RegExp> = {
  'wrong-tool-expected': /^tool open_ticket$/,
  'correct-tool-forbidden': /^forbidden get_order$/,
  'wrong-arguments': /^tool get_order$/,
  'wrong-answer': /^answer contains "cancelled"$/,
  'impossible-latency': /^first response ≤ 1 ms$/,
  'unrecognisable-voice': /^tool get_order$/,
};

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'evals-'));
  result = await runHarness({
    suites: ['evals', 'evals/negative'],
    outDir: out,
    target: 'local',
    env: { ...process.env, EVAL_TARGET: '' },
  });
}, 180_000);

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

describe('eval harness on the local stack', () => {
  it('passes every shipped scenario, text and audio', async () => {
    const shipped = await loadSuites(['evals']);
    const ids = shipped.flatMap((s) => s.scenarios.map((x) => x.id));
    const regular = result.report.scenarios.filter((s) => !s.expectedFailure);
    expect(regular.map((s) => s.id).sort()).toEqual([...ids].sort());
    const failures = regular
      .filter((s) => !s.passed)
      .map(
        (s) =>
          `${s.id}: ${s.error ?? s.turns.flatMap((t) => t.checks.filter((c) => !c.passed).map((c) => `${c.name} (${c.detail})`)).join('; ')}`,
      );
    expect(failures).toEqual([]);
    expect(regular.some((s) => s.mode === 'audio')).toBe(true);
    expect(regular.some((s) => s.mode === 'text')).toBe(true);
    // Spoken turns were really heard (transcribed) and measured from the end of speech.
    for (const s of regular.filter((x) => x.mode === 'audio')) {
      for (const t of s.turns) {
        expect(t.heard?.toLowerCase()).toBe(t.user.toLowerCase());
        expect(t.latency.firstResponseMs).toBeGreaterThanOrEqual(0);
      }
    }
    // Tool calls were executed through MCP against the stack's built-in server (real outputs came back).
    const order = regular.find((s) => s.id === 'order-status-shipped')!;
    expect(JSON.parse(order.turns[0]!.toolCalls[0]!.output)).toMatchObject({ orderId: '1234', status: 'shipped' });
    expect(result.report.summary.passed).toBe(regular.length);
  });

  it('fails every scenario of the deliberately wrong suite, each on its intended check', () => {
    const negatives = result.report.scenarios.filter((s) => s.expectedFailure);
    expect(negatives.map((s) => s.id).sort()).toEqual(Object.keys(INTENDED_FAILURE).sort());
    for (const s of negatives) {
      expect(s.passed, s.id).toBe(false);
      expect(s.error, s.id).toBeUndefined();
      const failed = s.turns.flatMap((t) => t.checks.filter((c) => !c.passed).map((c) => c.name));
      expect(
        failed.some((n) => INTENDED_FAILURE[s.id]!.test(n)),
        `${s.id} failed on ${failed.join(', ')}`,
      ).toBe(true);
    }
    // The run is OK only because the wrong suite failed as expected.
    expect(result.report.summary.unexpected).toBe(0);
    expect(result.report.summary.ok).toBe(true);
  });

  it('writes eval-report.json and a self-contained HTML report with latency charts', async () => {
    const json = JSON.parse(await readFile(result.jsonPath, 'utf8'));
    expect(json.summary.scenarios).toBe(result.report.summary.scenarios);
    expect(json.summary.firstResponseMs.p50).toBeGreaterThanOrEqual(0);
    const html = await readFile(result.htmlPath, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).toContain('Latency per turn');
    expect(html).toContain('order-status-shipped');
    expect(html).toContain('failed as expected');
    // No external assets: no scripts, stylesheets, images or fonts fetched from anywhere.
    expect(html).not.toMatch(/<(script|link|img|iframe)\b/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?https?:/i);
    expect(html).not.toMatch(/url\(/i);
    // Judge scores are included per scenario.
    expect(result.report.scenarios.every((s) => s.judge && !('error' in s.judge))).toBe(true);
  });
});
