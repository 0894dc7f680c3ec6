import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Stack } from '../../dev/stack';
import { startStack } from '../../dev/stack';
import { agentSchema, type AgentDefinition } from '../../shared/agents/schema';
import { createAgentStore, loadAgentFiles } from '../../shared/agents/store';
import { tableClient, TABLES } from '../../shared/storage/tables';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import type { RawClient } from '../emulator/helpers';
import {
  callerClient,
  emulatorSession,
  hangupAsCaller,
  incomingSipCall,
  say,
  stateWatcher,
  waitUntil,
} from '../lifecycle/helpers';
import { sleep, startFakeMcp, type FakeMcp } from './fake-mcp';

/**
 * End to end on the local stack: the realtime emulator's scripted model asks for a tool, the worker lists and
 * calls it over MCP, the built-in MCP server reads Azurite, and the model's answer uses the output.
 */
let stack: Stack;
let slow: FakeMcp;
let flaky: FakeMcp;
// The fake MCP servers listen on 127.0.0.1: allowed for local development only (MCP_ALLOW_LOOPBACK_URLS).
const storage = () => ({
  STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING,
  MCP_ALLOW_LOOPBACK_URLS: true,
});

const testAgent = (id: string, number: string, servers: unknown[]): AgentDefinition =>
  agentSchema.parse({
    id,
    displayName: id,
    instructions: 'You are a customer support agent. Use get_order for orders.',
    voice: 'alloy',
    mcpServers: servers,
    sip: { numbers: [number] },
  });

const order = (status: string) => ({
  content: [{ type: 'text' as const, text: JSON.stringify({ orderId: '1234', status }) }],
});

beforeAll(async () => {
  slow = await startFakeMcp([
    { name: 'get_order', input: { orderId: z.string() }, run: async () => (await sleep(4000), order('late')) },
  ]);
  flaky = await startFakeMcp([
    { name: 'get_order', input: { orderId: z.string() }, run: () => order('with the flaky courier') },
  ]);
  stack = await startStack({
    ports: 'free',
    env: { WORKER_REPLICAS: '1', MCP_TOOL_TIMEOUT_MS: '1000', MCP_ALLOW_LOOPBACK_URLS: 'true' },
  });
  // Seeded before any session, so no process has cached the agent list yet.
  const support = (await loadAgentFiles()).find((a) => a.id === 'customer-support')!;
  await createAgentStore(storage()).seed([
    testAgent('e2e-slow', '+18005550111', [{ name: 'slow', url: slow.url, allowedTools: ['get_order'] }]),
    testAgent('e2e-flaky', '+18005550122', [{ name: 'flaky', url: flaky.url, allowedTools: ['get_order'] }]),
    {
      ...support,
      id: 'e2e-narrow',
      sip: { numbers: ['+18005550133'] },
      mcpServers: [{ ...support.mcpServers[0]!, allowedTools: ['get_order'] }],
      // Only its one MCP tool: no call-control tools either.
      handoffs: [],
      transferTargets: [],
    },
  ]);
});
afterAll(async () => {
  await stack?.stop();
  await slow?.close();
  await flaky?.close();
});

async function liveCall(
  to: string,
  from: string,
): Promise<{ callId: string; caller: RawClient; end(): Promise<void> }> {
  const callId = await incomingSipCall(stack, from, to);
  const states = stateWatcher(stack, sessionIdForCall(callId));
  await states.until('live');
  const caller = await callerClient(stack, callId);
  return {
    callId,
    caller,
    end: async () => {
      caller.close();
      await hangupAsCaller(stack, callId);
      await states.until('ended');
      await states.stop();
    },
  };
}

const answerContaining = (caller: RawClient, text: string) =>
  caller.waitFor(
    'response.output_item.done',
    (e) => e.item.type === 'message' && e.item.role === 'assistant' && JSON.stringify(e.item).includes(text),
    { timeoutMs: 15_000 },
  );

async function toolOutputs(callId: string): Promise<string[]> {
  const s = await emulatorSession(stack, callId);
  return (s?.transcript ?? []).filter((t) => t.type === 'function_call_output').map((t) => t.text);
}

describe('tool calls end to end: emulator → worker → MCP → Azurite → answer', () => {
  it('the order in Azurite reaches the model as function_call_output and the answer uses it', async () => {
    // A status the seed data never has: the answer can only come from this row.
    const orders = tableClient(storage(), TABLES.orders);
    const row = await orders.getEntity<{ data: string }>('order', '1234');
    await orders.updateEntity(
      {
        partitionKey: 'order',
        rowKey: '1234',
        data: JSON.stringify({ ...JSON.parse(row.data), status: 'waiting at the depot' }),
      },
      'Merge',
    );

    // Maya calls from the number on her account and gives her PIN: only then are her orders available.
    const call = await liveCall('+18005550100', '+14155550101');
    say(call.caller, 'my pin is 2468');
    await answerContaining(call.caller, 'you are verified');
    say(call.caller, 'where is my order 1234');
    await answerContaining(call.caller, 'Order 1234 is waiting at the depot');
    const outputs = await toolOutputs(call.callId);
    expect(outputs).toHaveLength(2);
    expect(JSON.parse(outputs[1]!)).toMatchObject({ orderId: '1234', status: 'waiting at the depot', carrier: 'UPS' });
    const s = await emulatorSession(stack, call.callId);
    expect(s?.transcript.filter((t) => t.type === 'function_call').map((t) => t.text)).toEqual([
      'verify_caller({"pin":"2468"})',
      'get_order({"orderId":"1234"})',
    ]);
    await call.end();
  });

  it('a slow tool times out into an output the model can use, and the session carries on', async () => {
    const call = await liveCall('+18005550111', '+15550002002');
    say(call.caller, 'where is my order 1234');
    await waitUntil(
      'timeout output',
      async () => (await toolOutputs(call.callId)).some((o) => /timed out.*try again/.test(o)),
      10_000,
    );
    // The model answers from the output it got: the caller hears that the lookup timed out.
    await answerContaining(call.caller, 'timed out');
    say(call.caller, 'thank you');
    await answerContaining(call.caller, "You're welcome");
    await call.end();
  });

  it('a failing MCP server does not end the session; the next call works once it recovers', async () => {
    const call = await liveCall('+18005550122', '+15550002003');
    flaky.failWith = 500;
    say(call.caller, 'where is my order 1234');
    await waitUntil(
      'unavailable output',
      async () => (await toolOutputs(call.callId)).some((o) => /could not be reached/.test(o)),
      10_000,
    );
    await answerContaining(call.caller, 'could not be reached');
    flaky.failWith = undefined;
    say(call.caller, 'where is my order 1234 now');
    await answerContaining(call.caller, 'Order 1234 is with the flaky courier');
    await call.end();
  });

  it('a tool the agent does not allow is never called, even when a client adds it to the session', async () => {
    const tickets = tableClient(storage(), TABLES.tickets);
    const count = async () => {
      let n = 0;
      for await (const _ of tickets.listEntities()) n++;
      return n;
    };
    const before = await count();
    const call = await liveCall('+18005550133', '+15550002004');
    // A client holding the call widens the session's tools; the model (emulator) now calls open_ticket.
    const s = await emulatorSession(stack, call.callId);
    expect((s as { tools?: string[] } | undefined)?.tools).toEqual(['get_order']);
    call.caller.send({
      type: 'session.update',
      session: {
        type: 'realtime',
        tools: [
          {
            type: 'function',
            name: 'get_order',
            parameters: { type: 'object', properties: { orderId: { type: 'string' } } },
          },
          {
            type: 'function',
            name: 'open_ticket',
            parameters: { type: 'object', properties: { summary: { type: 'string' } } },
          },
        ],
      },
    });
    await call.caller.waitFor('session.updated', () => true, { timeoutMs: 5000 });
    // The worker's session lock puts the agent's tools back within one round trip.
    await waitUntil(
      "the agent's tools restored",
      async () => {
        const now = (await emulatorSession(stack, call.callId)) as { tools?: string[] } | undefined;
        return JSON.stringify(now?.tools) === '["get_order"]' ? true : undefined;
      },
      10_000,
    );
    const from = (await emulatorSession(stack, call.callId))?.transcript.length ?? 0;
    say(call.caller, 'please open a ticket for order 1234');
    await waitUntil(
      'the answer',
      async () =>
        (await emulatorSession(stack, call.callId))?.transcript
          .slice(from)
          .some((t) => t.type === 'message' && t.role === 'assistant')
          ? true
          : undefined,
      10_000,
    );
    // Whatever the model tried, open_ticket never ran: any output is the allow-list refusal, and no ticket exists.
    expect((await toolOutputs(call.callId)).every((o) => /not available to this agent/.test(o))).toBe(true);
    expect(await count()).toBe(before);
    await call.end();
  });
});
