import type WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { Conversation } from '../../evals/lib/conversation';
import type { ToolCall } from '../../shared/mcp/types';
import { createProvider } from '../../shared/providers/index';
import { protocolFor } from '../../shared/realtime/protocol';
import { agent } from '../worker/fakes';

const KEY = 'vl-test-key';
let emu: RealtimeEmulator;
beforeAll(async () => {
  emu = await startRealtimeEmulator({ profile: 'voice-live', apiKeys: [KEY], useEspeak: false });
});
afterAll(async () => emu?.stop());

describe('a Voice Live session through the protocol adapter', () => {
  it('does a tool turn in GA events while the wire speaks the beta shape', async () => {
    const provider = createProvider({
      REALTIME_PROVIDER: 'voice-live',
      REALTIME_ENDPOINT: emu.url,
      REALTIME_API_KEY: KEY,
      REALTIME_API_VERSION: '2025-10-01',
      REALTIME_MODEL: 'gpt-realtime',
    });
    const ws = await provider.openDirect('gpt-realtime');
    const wire: string[] = [];
    ws.on('message', (d: WebSocket.RawData) => wire.push(JSON.parse(d.toString()).type));
    const calls: ToolCall[] = [];
    const conversation = new Conversation(ws, {
      agent,
      session: {
        type: 'realtime',
        model: 'gpt-realtime',
        instructions: 'You are a support agent.',
        output_modalities: ['text'],
        tools: [{ type: 'function', name: 'get_order', parameters: { type: 'object', properties: {} } }],
      },
      protocol: protocolFor('voice-live'),
      runTool: async (call) => (calls.push(call), { output: '{"status":"shipped"}', isError: false, durationMs: 1 }),
    });
    try {
      await conversation.start();
      const turn = await conversation.textTurn('where is my order 1234');
      expect(turn.error).toBeUndefined();
      expect(calls.map((c) => c.name)).toEqual(['get_order']);
      expect(turn.answer).toMatch(/1234/);
      // The answer came as Voice Live's response.text.* on the wire and was read as GA output_text.
      expect(wire).toContain('response.text.done');
      expect(wire).not.toContain('response.output_text.done');
    } finally {
      conversation.close();
    }
  });
});
