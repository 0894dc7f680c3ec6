import { z } from 'zod';
import { startStack, type Stack } from '../../dev/stack';
import { agentSchema, type AgentDefinition } from '../../shared/agents/schema';
import { createAgentStore } from '../../shared/agents/store';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import type { RawClient } from '../emulator/helpers';
import { callerClient, emulatorSession, hangupAsCaller, incomingSipCall, stateWatcher } from '../lifecycle/helpers';
import { sleep, startFakeMcp, type FakeMcp } from '../mcp/fake-mcp';

/** The whole local stack with fast heartbeats, so a lost worker or socket is noticed within ~2 s. */
export function startChaosStack(env: Record<string, string> = {}): Promise<Stack> {
  return startStack({
    ports: 'free',
    // The fake MCP servers these tests control listen on 127.0.0.1 (allowed for local development only).
    env: {
      HEARTBEAT_INTERVAL_SECONDS: '1',
      HEARTBEAT_TIMEOUT_SECONDS: '2',
      WORKER_REPLICAS: '2',
      MCP_ALLOW_LOOPBACK_URLS: 'true',
      ...env,
    },
    log: process.env.STACK_LOG ? (l) => console.log(l) : undefined,
  });
}

/** An agent answering on `number` whose get_order lives on `mcpUrl` (a fake MCP server the test controls). */
export const agentWithTool = (id: string, number: string, mcpUrl: string): AgentDefinition =>
  agentSchema.parse({
    id,
    displayName: id,
    instructions: 'You are a customer support agent. Use get_order for orders.',
    voice: 'alloy',
    mcpServers: [{ name: 'orders', url: mcpUrl, allowedTools: ['get_order'] }],
    sip: { numbers: [number] },
  });

/** Seed before any session: worker processes cache the agent list. */
export async function seedAgents(stack: Stack, agents: AgentDefinition[]) {
  await createAgentStore({
    STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING,
    MCP_ALLOW_LOOPBACK_URLS: true,
  }).seed(agents);
}

/** A fake MCP get_order that takes `delayMs` (changeable) and counts its runs. */
export async function orderServer(delayMs = 0) {
  const state = { delayMs, runs: 0 };
  const mcp: FakeMcp = await startFakeMcp([
    {
      name: 'get_order',
      input: { orderId: z.string() },
      run: async () => {
        state.runs++;
        if (state.delayMs) await sleep(state.delayMs);
        return {
          content: [{ type: 'text' as const, text: JSON.stringify({ orderId: '1234', status: 'on the truck' }) }],
        };
      },
    },
  ]);
  return { mcp, state };
}

export interface LiveCall {
  callId: string;
  sessionId: string;
  partition: string;
  caller: RawClient;
  states: ReturnType<typeof stateWatcher>;
  end(): Promise<void>;
}

export async function liveCall(stack: Stack, from: string, to = '+18005550100'): Promise<LiveCall> {
  const callId = await incomingSipCall(stack, from, to);
  const sessionId = sessionIdForCall(callId);
  const states = stateWatcher(stack, sessionId);
  await states.until('live');
  const caller = await callerClient(stack, callId);
  return {
    callId,
    sessionId,
    partition: `sip:${from}`,
    caller,
    states,
    end: async () => {
      caller.close();
      await hangupAsCaller(stack, callId);
      await states.until('ended');
      await states.stop();
    },
  };
}

export const answerContaining = (
  caller: RawClient,
  text: string | RegExp,
  opts: { from?: number; timeoutMs?: number } = {},
) =>
  caller.waitFor(
    'response.output_item.done',
    (e) =>
      e.item.type === 'message' &&
      e.item.role === 'assistant' &&
      (typeof text === 'string' ? JSON.stringify(e.item).includes(text) : text.test(JSON.stringify(e.item))),
    { timeoutMs: 15_000, ...opts },
  );

export async function transcriptOf(stack: Stack, callId: string) {
  return (await emulatorSession(stack, callId))?.transcript ?? [];
}

/** Messages and tool outputs of the emulator's conversation: what the stored history must hold. */
export async function storableItems(stack: Stack, callId: string) {
  return (await transcriptOf(stack, callId))
    .filter(
      (t) =>
        (t.type === 'message' && (t.role === 'user' || t.role === 'assistant')) || t.type === 'function_call_output',
    )
    .map((t) => ({ role: t.type === 'function_call_output' ? 'tool' : t.role, text: t.text.trim() }));
}
