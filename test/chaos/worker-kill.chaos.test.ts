import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../dev/stack';
import { INTERRUPTED_OUTPUT } from '../../worker/tools';
import { callerClient, emulatorSession, say, storesOf, waitUntil } from '../lifecycle/helpers';
import {
  agentWithTool,
  answerContaining,
  liveCall,
  orderServer,
  seedAgents,
  startChaosStack,
  storableItems,
} from './helpers';

/**
 * A worker process SIGKILLed while the tool it started is still running (test/lifecycle/worker-kill.test.ts
 * kills between turns). The call must be re-attached to another replica within 5 s; the tool must not run a
 * second time — the new worker tells the model the outcome is unknown — and no transcript item may be lost.
 */
let stack: Stack;
let orders: Awaited<ReturnType<typeof orderServer>>;
const NUMBER = '+18005550302';

beforeAll(async () => {
  orders = await orderServer(3000);
  stack = await startChaosStack();
  await seedAgents(stack, [agentWithTool('chaos-kill', NUMBER, orders.mcp.url)]);
});
afterAll(async () => {
  await stack?.stop();
  await orders?.mcp.close();
});

describe('a worker killed while its tool call runs', () => {
  it('re-attaches within 5 s, never runs the tool twice, tells the model the outcome is unknown, loses nothing', async () => {
    const call = await liveCall(stack, '+15550009101', NUMBER);
    const first = call.states.current!;
    say(call.caller, 'where is my order 1234');
    await waitUntil('tool started', async () => orders.state.runs === 1, 10_000, 10);
    // The claim is stored before the tool runs: this is what the next worker finds.
    const running = await waitUntil(
      'claimed run',
      async () => (await storesOf(stack).toolRuns.undelivered(call.sessionId))[0],
    );
    expect(running.status).toBe('running');

    const fleet = stack.workers!;
    const victim = fleet.replicas.find((r) => r.workerId === first.workerId)!;
    const killedAt = Date.now();
    fleet.kill(victim.index, 'SIGKILL');
    const moved = await waitUntil(
      're-attached elsewhere',
      async () => {
        const s = call.states.current;
        return s?.state === 'live' && s.workerId !== first.workerId && s;
      },
      10_000,
      25,
    );
    const reattachMs = Date.now() - killedAt;
    console.log(`re-attached ${reattachMs} ms after the kill`);
    expect(reattachMs).toBeLessThan(5000);
    expect(moved.lostWorkers).toEqual([first.workerId]);

    // The new worker delivers "interrupted" for the run it cannot vouch for, and the model says so.
    await waitUntil('interrupted output in the conversation', async () => {
      const t = (await emulatorSession(stack, call.callId))?.transcript ?? [];
      return t.some((x) => x.type === 'function_call_output' && x.text === INTERRUPTED_OUTPUT('get_order'));
    });
    // Let the MCP server's own (orphaned) run finish: it must stay the only one.
    await new Promise((r) => setTimeout(r, 3500));
    expect(orders.state.runs).toBe(1);
    const outputs = (await emulatorSession(stack, call.callId))!.transcript.filter(
      (t) => t.type === 'function_call_output',
    );
    expect(outputs).toHaveLength(1);

    // The conversation goes on: asked again, the tool runs (once more) on the new worker.
    orders.state.delayMs = 0;
    const caller = await callerClient(stack, call.callId);
    say(caller, 'please try again: where is my order 1234');
    await answerContaining(caller, 'on the truck');
    expect(orders.state.runs).toBe(2);

    const expected = await storableItems(stack, call.callId);
    const { history, toolRuns } = storesOf(stack);
    const rows = await waitUntil('history complete', async () => {
      const r = await history.forSession(call.partition, call.sessionId);
      return r.length >= expected.length && r;
    }).catch(async (err) => {
      console.log(
        'expected',
        expected,
        'stored',
        (await history.forSession(call.partition, call.sessionId)).map((r) => [r.role, r.text]),
      );
      throw err;
    });
    expect(rows.map((r) => [r.role, r.text.trim()]).sort()).toEqual(expected.map((e) => [e.role, e.text]).sort());
    expect(new Set(rows.map((r) => r.itemId)).size).toBe(rows.length);
    await waitUntil('every tool run marked delivered', async () =>
      (await toolRuns.undelivered(call.sessionId)).length === 0 ? true : undefined,
    );
    call.caller.close();
    call.caller = caller;
    await call.end();
  });
});
