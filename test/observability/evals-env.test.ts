import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { envTarget, runHarness } from '../../evals/lib/harness';

/**
 * EVAL_TARGET=env: the harness takes the realtime service and MCP server from REALTIME_* / MCP_BUILTIN_URL
 * instead of starting a stack. Here they point at a running local stack, standing in for a real endpoint.
 */
let stack: Stack;
let out: string;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'evals-env-'));
  stack = await startStack({ ports: 'free', env: { ...process.env, WORKER_REPLICAS: '1' } });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  if (out) await rm(out, { recursive: true, force: true });
});

describe('eval harness against a configured endpoint (EVAL_TARGET=env)', () => {
  it('runs a suite against the endpoint the settings name', async () => {
    const env = {
      EVAL_TARGET: 'env',
      REALTIME_PROVIDER: 'emulator',
      REALTIME_ENDPOINT: stack.env.REALTIME_ENDPOINT,
      REALTIME_API_KEY: stack.env.REALTIME_API_KEY,
      MCP_BUILTIN_URL: stack.env.MCP_BUILTIN_URL,
      WORKER_AUTH_SECRET: stack.env.WORKER_AUTH_SECRET,
    };
    const { report } = await runHarness({ suites: ['evals/concierge.json'], outDir: out, env, judge: false });
    expect(report.target).toMatchObject({ provider: 'emulator', endpoint: new URL(stack.env.REALTIME_ENDPOINT!).host });
    expect(report.summary).toMatchObject({ scenarios: 3, passed: 3, ok: true });
    expect(report.scenarios.every((s) => s.judge === undefined)).toBe(true);
  });

  it('names the setting that is missing or wrong', () => {
    expect(() => envTarget({ REALTIME_PROVIDER: 'openai' })).toThrow(/EVAL_TARGET=env: REALTIME_ENDPOINT/);
    expect(() => envTarget({ REALTIME_PROVIDER: 'nope', REALTIME_ENDPOINT: 'https://x' })).toThrow(/REALTIME_PROVIDER/);
    expect(
      envTarget({
        REALTIME_PROVIDER: 'azure-openai',
        REALTIME_ENDPOINT: 'https://r.openai.azure.com',
        REALTIME_API_KEY: '',
      }),
    ).toMatchObject({ REALTIME_MODEL: 'gpt-realtime', JUDGE_MODEL: 'gpt-4.1-mini' });
  });
});
