import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { TOOL_PROGRESS_AFTER_MS } from '../../shared/mcp/output';
import { RawClient, wsUrl } from '../emulator/helpers';
import { attachBody, fakeCore, FakeRealtime, until } from './fakes';
import { withSessionReference } from '../../shared/calls/binding';
import { holdMessagesUntilListened } from '../../shared/providers/realtime-client';

const KEY = 'gate-test-key';
let emu: RealtimeEmulator;
let unused: FakeRealtime;
beforeAll(async () => {
  emu = await startRealtimeEmulator({ apiKeys: [KEY], useEspeak: false });
  unused = await FakeRealtime.start();
});
afterAll(async () => {
  await emu?.stop();
  await unused?.stop();
});

const openSideband = (callId: string) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(wsUrl(emu.url, `call_id=${callId}`), { headers: { 'api-key': KEY } });
    // As the provider's client does: session.created may arrive before the worker listens.
    holdMessagesUntilListened(ws);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_q, res) =>
      reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })),
    );
    ws.once('error', reject);
  });

const SUPPORT = withSessionReference('You are a support agent.', 's-emu');

describe('worker against the emulator: a slow tool turn', () => {
  it('says "one moment", then answers with the tool output once, with no response.create refused', async () => {
    const { callId } = await emu.simulateIncomingSipCall({ from: 'sip:+15550001@x', to: 'sip:support@y' });
    const accepted = await fetch(`${emu.url}/openai/v1/realtime/calls/${callId}/accept`, {
      method: 'POST',
      headers: { 'api-key': KEY, 'content-type': 'application/json' },
      // Accepted for session s-emu: the config carries its reference, which the worker checks on attach.
      body: JSON.stringify({ type: 'realtime', model: 'gpt-realtime', instructions: SUPPORT }),
    });
    expect(accepted.status).toBe(200);
    const logs: string[] = [];
    const f = fakeCore(unused, {
      openSideband,
      log: (l) => logs.push(l),
      sessionConfig: () => ({
        type: 'realtime',
        model: 'gpt-realtime',
        instructions: SUPPORT,
        output_modalities: ['text'],
        tools: [{ type: 'function', name: 'get_order', parameters: { type: 'object', properties: {} } }],
      }),
    });
    f.gateway.delayMs = TOOL_PROGRESS_AFTER_MS + 400;
    await f.core.attach({ ...attachBody('s-emu', callId), transport: 'sip' });
    const caller = await RawClient.open(wsUrl(emu.url, `call_id=${callId}`), { 'api-key': KEY });
    await until(() => emu.calls().some((c) => c.id === callId));
    caller.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is my order 1234' }] },
    });
    caller.send({ type: 'response.create' });
    const answer = await caller.waitFor(
      'response.output_item.done',
      (e) => e.item.type === 'message' && JSON.stringify(e.item).includes('shipped'),
      { timeoutMs: 15_000 },
    );
    expect(answer.item.type).toBe('message');
    // Three responses: the call, the progress line, the answer; none refused, none left active.
    await until(() => caller.types().filter((t) => t === 'response.done').length === 3, 5000);
    const messages = caller.events.filter(
      (e) => e.type === 'response.output_item.done' && e.item.type === 'message' && e.item.role === 'assistant',
    );
    expect(messages).toHaveLength(2);
    expect(JSON.stringify(messages[0])).not.toContain('shipped');
    expect(caller.types()).not.toContain('error');
    expect(logs.filter((l) => l.includes('server error'))).toEqual([]);
    caller.close();
    await f.core.stop();
  });
});
