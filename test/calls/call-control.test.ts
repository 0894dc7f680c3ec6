import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { odata } from '@azure/data-tables';
import { createSessionStore } from '../../shared/stores/sessions';
import { TABLES, tableClient } from '../../shared/storage/tables';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import type { RawClient } from '../emulator/helpers';
import { TestPeer } from '../emulator/webrtc-peer';
import { callerClient, emulatorSession, incomingSipCall, say, stateWatcher, waitUntil } from '../lifecycle/helpers';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ ports: 'free', log: process.env.STACK_LOG ? (l) => console.log(l) : undefined });
});
afterAll(async () => stack?.stop());

const rows = () => createSessionStore({ STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING! });

/** A phone call to the support number, live, with a client on it standing in for the caller. */
async function liveCall(from: string) {
  const callId = await incomingSipCall(stack, from);
  const sessionId = sessionIdForCall(callId);
  const states = stateWatcher(stack, sessionId);
  await states.until('live');
  const caller = await callerClient(stack, callId);
  return { callId, sessionId, states, caller };
}

const answerWith = (caller: RawClient, text: string, from = 0) =>
  caller.waitFor(
    'response.output_item.done',
    (e) => e.item.type === 'message' && JSON.stringify(e.item).toLowerCase().includes(text.toLowerCase()),
    { timeoutMs: 20_000, from },
  );

/** The session's stored transcript rows (Table `history`), read directly. */
async function storedItems(sessionId: string) {
  const client = tableClient({ STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING! }, TABLES.history);
  const out: { role: string; text: string; agentId: string }[] = [];
  const filter = odata`sessionId eq ${sessionId} and kind eq 'item'`;
  for await (const e of client.listEntities<{ role: string; text: string; agentId: string }>({
    queryOptions: { filter },
  }))
    out.push({ role: e.role, text: e.text, agentId: e.agentId });
  return out;
}

const toolNames = (session: unknown) =>
  ((session as { tools?: { name?: string }[] }).tools ?? []).map((t) => t.name).filter(Boolean);

describe('call control on the local stack (phone calls through the emulator)', () => {
  it('hands off to another agent: its instructions and tools apply, the transcript goes on, the old tools are refused', async () => {
    const { callId, sessionId, states, caller } = await liveCall('+15550003001');
    say(caller, 'can you put me through to the concierge');
    await answerWith(caller, 'concierge desk');
    // The worker applied the concierge over the sideband: the service reports its tools, not support's.
    const updated = await caller.waitFor('session.updated', (e) => toolNames(e.session).includes('get_weather'));
    expect(toolNames(updated.session)).not.toContain('get_order');
    expect((updated.session as { instructions?: string }).instructions).toContain('concierge');
    const row = await waitUntil('current agent on the row', async () => {
      const r = await rows().get(sessionId);
      return r?.currentAgentId === 'concierge' ? r : undefined;
    });
    expect(row.agentId).toBe('customer-support');

    // The new agent's own tool works in the same call.
    const mark = caller.events.length;
    say(caller, "what's the weather in Paris");
    await caller.waitFor('response.function_call_arguments.done', (e) => e.name === 'get_weather', { from: mark });
    await answerWith(caller, 'paris', mark);

    // A model that still calls the previous agent's tool is refused by the worker at once.
    const before = caller.events.length;
    caller.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is my order 1234' }] },
    });
    caller.send({
      type: 'response.create',
      response: {
        tools: [{ type: 'function', name: 'get_order', parameters: { type: 'object', properties: {} } }],
        tool_choice: { type: 'function', name: 'get_order' },
      },
    });
    await caller.waitFor('response.function_call_arguments.done', (e) => e.name === 'get_order', { from: before });
    const refused = await waitUntil('the refusal as the tool output', async () => {
      const s = await emulatorSession(stack, callId);
      return s?.transcript.find((t) => t.type === 'function_call_output' && t.text.includes('not available'));
    });
    expect(refused.text).toContain('get_order');

    // The transcript kept going across the handoff, each line under the agent that said it.
    const items = await waitUntil('transcript under both agents', async () => {
      const all = await storedItems(sessionId);
      return all.some((i) => i.agentId === 'concierge' && i.role === 'assistant') ? all : undefined;
    });
    expect(items.find((i) => i.text === 'can you put me through to the concierge')?.agentId).toBe('customer-support');
    caller.close();
    await states.stop();
  });

  it('transfers a phone call to a named target: SIP REFER to its URI, the session ends as transferred', async () => {
    const { callId, sessionId, states, caller } = await liveCall('+15550003002');
    const created = await caller.waitFor('session.created');
    expect(toolNames(created.session)).toContain('transfer_call');
    // The model is offered names only; the URI never leaves the server.
    expect(JSON.stringify(created.session)).not.toContain('contoso.example');
    say(caller, 'let me talk to a real person');
    await answerWith(caller, 'transferring you');
    const ended = await states.until('ended', 20_000);
    expect(ended.reason).toBe('transferred');
    const calls = (await fetch(`${stack.url('realtime emulator')}/_emulator/sessions`).then((r) => r.json())) as {
      calls?: { id: string; state: string; referredTo?: string }[];
    };
    const call = calls.calls?.find((c) => c.id === callId);
    expect(call).toMatchObject({ state: 'referred', referredTo: 'sip:support-desk@contoso.example' });
    const row = await waitUntil('end reason on the row', async () => {
      const r = await rows().get(sessionId);
      return r?.endReason ? r : undefined;
    });
    expect(row.endReason).toBe('transferred');
    caller.close();
    await states.stop();
  });

  it('keypad presses reach the model as the caller’s entry: a PIN verifies the caller; the transcript masks it', async () => {
    const { callId, sessionId, states, caller } = await liveCall('+14155550101');
    const press = (keys: string) =>
      fetch(`${stack.url('realtime emulator')}/_emulator/calls/${callId}/dtmf`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ keys }),
      });
    expect((await press('2468#')).status).toBe(202);
    await caller.waitFor('input_audio_buffer.dtmf_event_received', (e) => e.event === '#');
    await caller.waitFor('response.function_call_arguments.done', (e) => e.name === 'verify_caller');
    await answerWith(caller, 'you are verified');
    const items = await waitUntil('the keypad line in the transcript', async () => {
      const all = await storedItems(sessionId);
      return all.find((i) => i.text.startsWith('[keypad]')) ? all : undefined;
    });
    const keypad = items.find((i) => i.text.startsWith('[keypad]'))!;
    expect(keypad).toMatchObject({ role: 'user', text: '[keypad] ••••#' });
    expect(JSON.stringify(items.filter((i) => i.role !== 'tool'))).not.toContain('2468');
    caller.close();
    await states.stop();
  });

  it('hands off on a browser call too (WebRTC test peer): GET /api/sessions/{id} shows the current agent', async () => {
    const api = stack.url('functions');
    const headers = { 'content-type': 'application/json', 'x-user-id': 'handoff-browser-user' };
    const created = await fetch(`${api}/sessions`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ agentId: 'customer-support' }),
    });
    expect(created.status).toBe(201);
    const { sessionId, clientSecret, webrtcUrl } = (await created.json()) as {
      sessionId: string;
      clientSecret: string;
      webrtcUrl: string;
    };
    const states = stateWatcher(stack, sessionId);
    const peer = new TestPeer();
    try {
      expect((await peer.connect(webrtcUrl, clientSecret)).status).toBe(201);
      const reg = await fetch(`${api}/sessions/${sessionId}/call`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ callId: peer.callId }),
      });
      expect(reg.status).toBe(202);
      await states.until('live');
      peer.send({
        type: 'conversation.item.create',
        item: {
          type: 'message',
          role: 'user',
          content: [{ type: 'input_text', text: 'put me through to the concierge' }],
        },
      });
      peer.send({ type: 'response.create' });
      await waitUntil('the concierge answering', async () => peer.answers().some((a) => a.includes('concierge desk')));
      const info = await waitUntil('the current agent', async () => {
        const body = (await (await fetch(`${api}/sessions/${sessionId}`, { headers })).json()) as {
          agentId: string;
          currentAgentId?: string;
        };
        return body.currentAgentId === 'concierge' ? body : undefined;
      });
      expect(info.agentId).toBe('customer-support');
    } finally {
      await peer.close();
      await states.stop();
    }
  });
});
