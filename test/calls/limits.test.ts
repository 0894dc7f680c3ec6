import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startStack, type Stack } from '../../dev/stack';
import { agentSchema } from '../../shared/agents/schema';
import { createAgentStore, loadAgentFiles } from '../../shared/agents/store';
import { noopPublisher } from '../../shared/events/types';
import { createDailyMinutes, withDailyMinutes } from '../../shared/stores/daily-minutes';
import type { SessionRow } from '../../shared/stores/sessions';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import { callerClient, emulatorSession, incomingSipCall, say, stateWatcher, waitUntil } from '../lifecycle/helpers';
import { sleep, startFakeMcp, type FakeMcp } from '../mcp/fake-mcp';

/** Phone manners and the limits the worker enforces, on phone calls through the emulator. */
let stack: Stack;
let slow: FakeMcp;
const storage = () => ({
  STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING,
  MCP_ALLOW_LOOPBACK_URLS: true,
});

const agent = (id: string, number: string, extra: Record<string, unknown>) =>
  agentSchema.parse({
    id,
    displayName: id,
    instructions: 'You are a customer support agent. Use get_order for orders.',
    voice: 'alloy',
    greeting: `Hello, this is ${id}.`,
    sip: { numbers: [number] },
    ...extra,
  });

beforeAll(async () => {
  slow = await startFakeMcp([
    {
      name: 'get_order',
      input: { orderId: z.string() },
      run: async () => (
        await sleep(3000),
        { content: [{ type: 'text' as const, text: JSON.stringify({ orderId: '1234', status: 'late' }) }] }
      ),
    },
  ]);
  stack = await startStack({ ports: 'free', env: { MCP_ALLOW_LOOPBACK_URLS: 'true', DAILY_MINUTES_PER_USER: '1' } });
  await loadAgentFiles();
  await createAgentStore(storage()).seed([
    agent('limit-idle', '+18005550301', { limits: { idleSeconds: 2, idleReprompts: 1 } }),
    agent('limit-length', '+18005550302', { limits: { maxCallSeconds: 5, idleSeconds: 60 } }),
    agent('slow-german', '+18005550303', {
      language: 'de',
      mcpServers: [{ name: 'slow', url: slow.url, allowedTools: ['get_order'] }],
    }),
  ]);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await slow?.close();
});

const assistantLines = async (callId: string) =>
  ((await emulatorSession(stack, callId))?.transcript ?? [])
    .filter((t) => t.role === 'assistant' && t.type === 'message')
    .map((t) => t.text);

async function liveCall(to: string, from: string) {
  const callId = await incomingSipCall(stack, from, to);
  const states = stateWatcher(stack, sessionIdForCall(callId));
  await states.until('live');
  return { callId, states };
}

describe('phone manners and limits (local stack)', () => {
  it('greets a phone caller first, with the agent’s own greeting', async () => {
    const { callId, states } = await liveCall('+18005550100', '+15550004001');
    const lines = await waitUntil('the greeting', async () => {
      const l = await assistantLines(callId);
      return l[0] ? l : undefined;
    });
    const support = (await loadAgentFiles()).find((a) => a.id === 'customer-support')!;
    expect(lines[0]).toBe(support.greeting);
    await states.stop();
  });

  it('an idle caller is reprompted, then told goodbye and hung up (idle_timeout)', async () => {
    const { callId, states } = await liveCall('+18005550301', '+15550004002');
    const ended = await states.until('ended', 30_000);
    expect(ended.reason).toBe('idle_timeout');
    const lines = await assistantLines(callId);
    // Greeting, one reprompt, the goodbye: each through the one response gate.
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('Hello, this is limit-idle.');
    await states.stop();
  });

  it('a call at the agent’s maxCallSeconds gets a goodbye and is hung up (max_call_length)', async () => {
    const started = Date.now();
    const { callId, states } = await liveCall('+18005550302', '+15550004003');
    const caller = await callerClient(stack, callId);
    say(caller, 'hello');
    const ended = await states.until('ended', 30_000);
    expect(ended.reason).toBe('max_call_length');
    expect(Date.now() - started).toBeGreaterThanOrEqual(5000);
    expect((await assistantLines(callId)).length).toBeGreaterThanOrEqual(3);
    caller.close();
    await states.stop();
  });

  it('says "one moment" during a slow tool in the agent’s language', async () => {
    const { callId, states } = await liveCall('+18005550303', '+15550004004');
    const caller = await callerClient(stack, callId);
    await waitUntil('the greeting', async () => (await assistantLines(callId)).length === 1 || undefined);
    say(caller, 'where is my order 1234');
    const lines = await waitUntil('the progress line and the answer', async () => {
      const l = await assistantLines(callId);
      return l.length >= 3 ? l : undefined;
    });
    expect(lines[1]).toBe('Einen Moment bitte, ich sehe noch nach.');
    caller.close();
    await states.stop();
  });

  it('counts ended sessions into the user’s day once, and refuses a new session at mint with a 429 naming the limit', async () => {
    const mint = () =>
      fetch(`${stack.url('functions')}/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-user-id': 'minutes-user' },
        body: JSON.stringify({ agentId: 'customer-support' }),
      });
    expect((await mint()).status).toBe(201);
    const minutes = createDailyMinutes(storage());
    const now = Date.now();
    const row: Partial<SessionRow> = {
      userId: 'minutes-user',
      transport: 'webrtc',
      createdAt: now - 70_000,
      liveAt: now - 61_000,
    };
    const counted = withDailyMinutes(noopPublisher, {
      minutes,
      awaitWork: true,
      sessions: {
        get: async () => ({ ...(row as SessionRow), etag: '*' }),
        update: async (_id, patch) => void Object.assign(row, patch),
      },
    });
    const ended = { type: 'state', sessionId: 's-minutes', state: 'ended', at: now } as const;
    await counted.publish(ended);
    await counted.publish(ended); // a retried delivery of the same end
    expect(await minutes.usedSeconds('minutes-user', now)).toBe(61);
    const refused = await mint();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await refused.json()) as {
      error: { code: string; message: string; details: Record<string, unknown> };
    };
    expect(body.error).toMatchObject({
      code: 'daily_minutes_exceeded',
      details: { limit: 'DAILY_MINUTES_PER_USER', limitMinutes: 1, usedMinutes: 1 },
    });
    expect(body.error.message).toContain('DAILY_MINUTES_PER_USER');
    // Another user is not affected.
    const other = await fetch(`${stack.url('functions')}/sessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-user-id': 'someone-else' },
      body: JSON.stringify({ agentId: 'customer-support' }),
    });
    expect(other.status).toBe(201);
  });
});
