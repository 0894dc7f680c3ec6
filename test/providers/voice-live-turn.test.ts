import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RealtimeClientEvent } from 'openai/resources/realtime/realtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { agentSchema } from '../../shared/agents/schema';
import { buildSessionConfig } from '../../shared/agents/session-config';
import { createProvider } from '../../shared/providers/index';
import { decodedList, protocolFor } from '../../shared/realtime/protocol';
import type { ServerEvent } from '../../shared/realtime/events';

const KEY = 'vl-turn-key';
let emu: RealtimeEmulator;
beforeAll(async () => {
  emu = await startRealtimeEmulator({ profile: 'voice-live', apiKeys: [KEY], useEspeak: false });
});
afterAll(async () => emu?.stop());

describe('Voice Live end to end: the provider, the GA ↔ Voice Live adapter and the voice-live profile', () => {
  it("does a tool turn with a shipped agent's session, speaking GA on our side", async () => {
    const provider = createProvider({
      REALTIME_PROVIDER: 'voice-live',
      REALTIME_ENDPOINT: emu.url,
      REALTIME_API_KEY: KEY,
      REALTIME_MODEL: 'gpt-realtime',
      REALTIME_API_VERSION: '2025-10-01',
    });
    const protocol = protocolFor('voice-live');
    const agent = agentSchema.parse(
      JSON.parse(readFileSync(resolve(import.meta.dirname, '../../agents/customer-support.json'), 'utf8')),
    );
    const tool = {
      type: 'function' as const,
      name: 'get_order',
      parameters: { type: 'object', properties: { orderId: { type: 'string' } } },
    };
    const session = { ...buildSessionConfig(agent, [tool], { model: 'gpt-realtime' }), output_modalities: ['text'] };
    const ws = await provider.openDirect('gpt-realtime');
    const events: ServerEvent[] = [];
    ws.on('message', (d) => {
      events.push(...decodedList(protocol.decode(JSON.parse(d.toString()))));
    });
    const send = (e: RealtimeClientEvent) => {
      const wire = protocol.encode(e);
      if (wire) ws.send(JSON.stringify(wire));
    };
    const { model: _model, ...update } = session;
    send({ type: 'session.update', session: update as never });
    await expect.poll(() => events.find((e) => e.type === 'session.updated')).toBeTruthy();
    send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is my order 1234' }] },
    });
    send({ type: 'response.create' });
    await expect.poll(() => events.find((e) => e.type === 'response.function_call_arguments.done')).toBeTruthy();
    const call = events.find((e) => e.type === 'response.function_call_arguments.done');
    if (call?.type !== 'response.function_call_arguments.done') throw new Error('no function call');
    expect(call.name).toBe('get_order');
    send({
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: call.call_id, output: '{"status":"shipped"}' },
    });
    send({ type: 'response.create' });
    await expect
      .poll(() => events.find((e) => e.type === 'response.output_text.done' && e.text.includes('shipped')))
      .toBeTruthy();
    expect(events.map((e) => e.type)).toContain('conversation.item.added');
    ws.close();
  });
});
