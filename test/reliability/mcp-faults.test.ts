import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Stack } from '../../dev/stack';
import { emulatorSession, say, storesOf, waitUntil } from '../lifecycle/helpers';
import { hangupAsCaller } from '../lifecycle/helpers';
import { sleep, startFakeMcp, type FakeMcp } from '../mcp/fake-mcp';
import { agentWithTool, answerContaining, liveCall, seedAgents, startChaosStack } from '../chaos/helpers';

/**
 * The MCP server behind a tool is down (connection refused) or slow, at the level of the whole stack
 * (test/mcp/e2e.test.ts covers a 500ing server and a timeout). The model always gets an output it can speak
 * from, the session carries on, and a caller hanging up during a slow tool leaves nothing stuck.
 * A chaos test fast enough for `npm test`; `npm run test:chaos` runs it too (vitest.chaos.config.ts).
 */
let stack: Stack;
let mcp: FakeMcp;
let port = 0;
let delayMs = 0;
let runs = 0;
const DOWN = '+18005550401';

const startOrders = (p = 0) =>
  startFakeMcp(
    [
      {
        name: 'get_order',
        input: { orderId: z.string() },
        run: async () => {
          runs++;
          if (delayMs) await sleep(delayMs);
          return {
            content: [{ type: 'text' as const, text: JSON.stringify({ orderId: '1234', status: 'in the van' }) }],
          };
        },
      },
    ],
    p,
  );

beforeAll(async () => {
  mcp = await startOrders();
  port = Number(new URL(mcp.url).port);
  // A long heartbeat timeout: nothing here is about worker loss, and a loaded CI machine must not fake one.
  stack = await startChaosStack({ MCP_TOOL_TIMEOUT_MS: '2000', HEARTBEAT_TIMEOUT_SECONDS: '8' });
  await seedAgents(stack, [agentWithTool('chaos-mcp', DOWN, mcp.url)]);
});
afterAll(async () => {
  await stack?.stop();
  await mcp?.close();
});

const outputs = async (callId: string) =>
  ((await emulatorSession(stack, callId))?.transcript ?? [])
    .filter((t) => t.type === 'function_call_output')
    .map((t) => t.text);

describe('MCP server down or slow', () => {
  it('down: the model hears the tool is unreachable, the session continues, and the tool works once the server is back', async () => {
    const call = await liveCall(stack, '+15550009201', DOWN);
    await mcp.close(); // connection refused from now on
    say(call.caller, 'where is my order 1234');
    const out = await waitUntil('an output', async () => (await outputs(call.callId))[0], 15_000);
    console.log(`output while the MCP server is down: ${out}`);
    expect(out).toMatch(/could not be reached|unavailable|not reachable|failed/i);
    expect(out).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|stack|at /); // useful words, not internals
    await answerContaining(call.caller, /could not|unavailable|not reachable|failed/i);
    const from = call.caller.events.length;
    say(call.caller, 'thank you');
    await answerContaining(call.caller, "You're welcome", { from });

    mcp = await startOrders(port);
    const before = runs;
    const from2 = call.caller.events.length;
    say(call.caller, 'where is my order 1234 now');
    await answerContaining(call.caller, 'in the van', { from: from2 });
    expect(runs).toBe(before + 1);
    expect(call.states.current).toMatchObject({ state: 'live', reattachAttempts: 0 });
    await call.end();
  });

  it('slow past the timeout: a timeout output, then the session carries on', async () => {
    delayMs = 4000;
    const call = await liveCall(stack, '+15550009202', DOWN);
    say(call.caller, 'where is my order 1234');
    const out = await waitUntil('timeout output', async () => (await outputs(call.callId))[0], 10_000);
    expect(out).toMatch(/timed out/i);
    await answerContaining(call.caller, /timed out/i);
    delayMs = 0;
    const from = call.caller.events.length;
    say(call.caller, 'where is my order 1234 now');
    await answerContaining(call.caller, 'in the van', { from });
    await call.end();
  });

  it('the caller hangs up while a slow tool runs: the session ends, the worker lets go, no run is left running', async () => {
    delayMs = 1500;
    const call = await liveCall(stack, '+15550009203', DOWN);
    const before = runs;
    say(call.caller, 'where is my order 1234');
    await waitUntil('tool started', async () => runs > before, 10_000, 10);
    call.caller.close();
    await hangupAsCaller(stack, call.callId);
    const ended = await call.states.until('ended', 15_000);
    expect(ended.path.at(-1)).toBe('ended');
    await call.states.stop();
    await waitUntil(
      'sideband closed',
      async () => ((await emulatorSession(stack, call.callId))?.connections ?? 0) === 0,
    );
    // The run finishes and is stored as done (its output has nowhere to go); nothing stays "running".
    const left = await waitUntil(
      'the run stored as done',
      async () => {
        const rows = await storesOf(stack).toolRuns.undelivered(call.sessionId);
        return rows.some((r) => r.status === 'done') ? rows : undefined;
      },
      15_000,
    );
    expect(left.filter((r) => r.status === 'running')).toEqual([]);
    expect(left.find((r) => r.status === 'done')?.output).toContain('in the van');
    expect(runs).toBe(before + 1);
    delayMs = 0;
  });
});
