import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runHarness } from '../../evals/lib/harness';

/**
 * `npm run eval` on the emulator's `live` profile (REALTIME_EMULATOR_PROFILE=live selects it): the spoken
 * concierge suite on the Live primary WebSocket, each tool call under Responses delegation run through MCP.
 */
let out: string | undefined;
afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

describe('eval harness on the live profile', () => {
  it('passes the spoken concierge suite on GPT-Live', async () => {
    out = await mkdtemp(join(tmpdir(), 'evals-live-'));
    const { report } = await runHarness({
      suites: ['evals/concierge-audio.json'],
      outDir: out,
      target: 'local',
      judge: false,
      env: { ...process.env, EVAL_TARGET: '', REALTIME_EMULATOR_PROFILE: 'live' },
    });
    expect(report.target).toMatchObject({ provider: 'live', model: 'gpt-live-1' });
    const failures = report.scenarios
      .filter((s) => !s.passed)
      .map(
        (s) =>
          `${s.id}: ${s.error ?? s.turns.flatMap((t) => [t.error ?? '', ...t.checks.filter((c) => !c.passed).map((c) => `${c.name} (${c.detail})`)]).join('; ')}`,
      );
    expect(failures).toEqual([]);
    expect(report.scenarios.length).toBeGreaterThan(0);
    const calls = report.scenarios.flatMap((s) => s.turns.flatMap((t) => t.toolCalls.map((c) => c.name)));
    expect(calls).toContain('get_weather');
  }, 240_000);
});
