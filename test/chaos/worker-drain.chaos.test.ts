import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../dev/stack';
import { callerClient, emulatorSession, say, storesOf, waitUntil } from '../lifecycle/helpers';
import {
  agentWithTool,
  answerContaining,
  liveCall,
  orderServer,
  seedAgents,
  startChaosStack,
  storableItems,
  type LiveCall,
} from './helpers';

/**
 * A worker replica SIGTERMed mid-call, as Container Apps does on a revision update or scale-in: it drains
 * (tells the lifecycle each session needs another worker) and the call moves to another replica. Between
 * turns and while a tool runs: one output per call id, the tool not run twice, no transcript item lost.
 */
let stack: Stack;
let orders: Awaited<ReturnType<typeof orderServer>>;
const NUMBER = '+18005550303';

beforeAll(async () => {
  orders = await orderServer();
  stack = await startChaosStack();
  await seedAgents(stack, [agentWithTool('chaos-drain', NUMBER, orders.mcp.url)]);
});
afterAll(async () => {
  await stack?.stop();
  await orders?.mcp.close();
});

async function drainHolder(call: LiveCall) {
  const first = call.states.current!;
  const fleet = stack.workers!;
  const victim = fleet.replicas.find((r) => r.workerId === first.workerId)!;
  const at = Date.now();
  fleet.kill(victim.index, 'SIGTERM');
  const moved = await waitUntil(
    'moved to another worker',
    async () => {
      const s = call.states.current;
      return s?.state === 'live' && s.workerId !== first.workerId && s;
    },
    15_000,
    25,
  );
  console.log(`moved ${Date.now() - at} ms after SIGTERM`);
  await waitUntil('replica replaced', async () => victim.restarts >= 1, 15_000);
  await fleet.ready();
  return { first, moved };
}

async function expectHistoryComplete(call: LiveCall) {
  const expected = await storableItems(stack, call.callId);
  const rows = await waitUntil('history complete', async () => {
    const r = await storesOf(stack).history.forSession(call.partition, call.sessionId);
    return r.length >= expected.length && r;
  });
  expect(rows.map((r) => [r.role, r.text.trim()]).sort()).toEqual(expected.map((e) => [e.role, e.text]).sort());
  expect(new Set(rows.map((r) => r.itemId)).size).toBe(rows.length);
}

const outputs = async (callId: string) =>
  ((await emulatorSession(stack, callId))?.transcript ?? []).filter((t) => t.type === 'function_call_output');

describe('a worker drained (SIGTERM) mid-call', () => {
  it('between turns: the call moves, the next turn works on the new worker, nothing lost', async () => {
    orders.state.delayMs = 0;
    const runs0 = orders.state.runs;
    const call = await liveCall(stack, '+15550009301', NUMBER);
    say(call.caller, 'where is my order 1234');
    await answerContaining(call.caller, 'on the truck');
    const { first, moved } = await drainHolder(call);
    expect(moved.lostWorkers).toEqual([first.workerId]);

    const caller = await callerClient(stack, call.callId);
    say(caller, 'and where is my order 1234 now');
    await answerContaining(caller, 'on the truck');
    expect(orders.state.runs).toBe(runs0 + 2);
    expect(await outputs(call.callId)).toHaveLength(2);
    await expectHistoryComplete(call);
    await waitUntil('every tool run marked delivered', async () =>
      (await storesOf(stack).toolRuns.undelivered(call.sessionId)).length === 0 ? true : undefined,
    );
    call.caller.close();
    call.caller = caller;
    await call.end();
  });

  it('while a tool runs: exactly one output reaches the conversation and the tool ran once', async () => {
    orders.state.delayMs = 2500;
    const runs0 = orders.state.runs;
    const call = await liveCall(stack, '+15550009302', NUMBER);
    say(call.caller, 'where is my order 1234');
    await waitUntil('tool started', async () => orders.state.runs === runs0 + 1, 10_000, 10);
    await drainHolder(call);
    // Whatever the outcome (the real result, or "interrupted" from the new worker), one output per call id.
    await waitUntil('an output', async () => (await outputs(call.callId)).length >= 1, 15_000);
    await new Promise((r) => setTimeout(r, 3000)); // let the draining worker's run finish
    const outs = await outputs(call.callId);
    console.log(`output after a drain mid-tool: ${outs.map((o) => o.text.slice(0, 60)).join(' | ')}`);
    expect(outs).toHaveLength(1);
    expect(orders.state.runs).toBe(runs0 + 1);
    orders.state.delayMs = 0;
    const caller = await callerClient(stack, call.callId);
    say(caller, 'where is my order 1234 please');
    await answerContaining(caller, 'on the truck');
    await expectHistoryComplete(call);
    await waitUntil('every tool run marked delivered', async () =>
      (await storesOf(stack).toolRuns.undelivered(call.sessionId)).length === 0 ? true : undefined,
    );
    call.caller.close();
    call.caller = caller;
    await call.end();
  });
});
