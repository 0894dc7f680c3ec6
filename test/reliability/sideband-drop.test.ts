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
} from '../chaos/helpers';

/**
 * The realtime service drops the sideband WebSocket (emulator fault): the worker reconnects, nothing is lost.
 * A chaos test fast enough for `npm test`; `npm run test:chaos` runs it too (vitest.chaos.config.ts).
 */
let stack: Stack;
let orders: Awaited<ReturnType<typeof orderServer>>;
const NUMBER = '+18005550301';

beforeAll(async () => {
  orders = await orderServer();
  // A long heartbeat timeout: a dropped socket must not look like a lost worker, and a loaded CI machine must
  // not fake one either.
  stack = await startChaosStack({ HEARTBEAT_TIMEOUT_SECONDS: '8' });
  await seedAgents(stack, [agentWithTool('chaos-drop', NUMBER, orders.mcp.url)]);
});
afterAll(async () => {
  await stack?.stop();
  await orders?.mcp.close();
});

const drop = (callId: string) =>
  fetch(`${stack.url('realtime emulator')}/_emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ drop: { callId } }),
  });

/** Every socket of the call is closed by the fault; the worker's comes back on its own. */
async function dropAndWaitForWorker(callId: string) {
  const before = (await emulatorSession(stack, callId))!.connections;
  expect(before).toBeGreaterThanOrEqual(1);
  const at = Date.now();
  expect((await drop(callId)).status).toBeLessThan(300);
  await waitUntil('sockets closed', async () => (await emulatorSession(stack, callId))?.connections === 0, 5000, 20);
  await waitUntil(
    'the worker reconnected',
    async () => (await emulatorSession(stack, callId))?.connections === 1,
    5000,
    20,
  );
  return Date.now() - at;
}

async function expectHistoryComplete(sessionId: string, partition: string, callId: string) {
  const expected = await storableItems(stack, callId);
  const rows = await waitUntil('history rows', async () => {
    const r = await storesOf(stack).history.forSession(partition, sessionId);
    return r.length >= expected.length && r;
  });
  expect(rows.map((r) => [r.role, r.text.trim()]).sort()).toEqual(expected.map((e) => [e.role, e.text]).sort());
  expect(new Set(rows.map((r) => r.itemId)).size).toBe(rows.length);
}

describe('sideband socket dropped by the service', () => {
  it('between turns: the same worker reconnects, the lifecycle does not move the call, the next turn works', async () => {
    orders.state.delayMs = 0;
    const call = await liveCall(stack, '+15550008001', NUMBER);
    const first = call.states.current!;
    say(call.caller, 'where is my order 1234');
    await answerContaining(call.caller, 'on the truck');

    const ms = await dropAndWaitForWorker(call.callId);
    console.log(`worker sideband back ${ms} ms after the drop`);
    expect(ms).toBeLessThan(3000);
    // Not a worker loss: same worker, no re-attach.
    await new Promise((r) => setTimeout(r, 2500)); // heartbeats go on (every 1 s) while the socket is re-opened
    expect(call.states.current).toMatchObject({ state: 'live', workerId: first.workerId, reattachAttempts: 0 });
    expect(call.states.current!.path).toEqual(['requested', 'attaching', 'live']);

    const caller = await callerClient(stack, call.callId);
    say(caller, 'and where is my order 1234 now');
    await answerContaining(caller, 'on the truck');
    expect(orders.state.runs).toBe(2);
    const session = await emulatorSession(stack, call.callId);
    expect(session!.transcript.filter((t) => t.type === 'function_call_output')).toHaveLength(2);
    await expectHistoryComplete(call.sessionId, call.partition, call.callId);
    call.caller = caller;
    await call.end();
  });

  it('while a tool runs: the output is sent on the new socket, once, and the model answers with it', async () => {
    orders.state.delayMs = 1500;
    const runsBefore = orders.state.runs;
    const call = await liveCall(stack, '+15550008002', NUMBER);
    say(call.caller, 'where is my order 1234');
    await waitUntil('tool started', async () => orders.state.runs > runsBefore, 10_000, 10);

    await dropAndWaitForWorker(call.callId);
    const caller = await callerClient(stack, call.callId);
    // The output reaches the conversation after the reconnect, and the worker asks for the answer.
    await answerContaining(caller, 'on the truck', { timeoutMs: 10_000 });
    const session = await emulatorSession(stack, call.callId);
    expect(session!.transcript.filter((t) => t.type === 'function_call_output')).toHaveLength(1);
    expect(orders.state.runs).toBe(runsBefore + 1);
    await waitUntil('every tool run marked delivered', async () =>
      (await storesOf(stack).toolRuns.undelivered(call.sessionId)).length === 0 ? true : undefined,
    );
    await expectHistoryComplete(call.sessionId, call.partition, call.callId);
    expect(call.states.current).toMatchObject({ state: 'live', reattachAttempts: 0 });
    call.caller = caller;
    await call.end();
  });
});
