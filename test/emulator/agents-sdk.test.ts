import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { RealtimeAgent, RealtimeSession, tool } from '@openai/agents-realtime';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';

const KEY = 'server-key';
const PATHS = { openai: '/v1/realtime', 'azure-openai': '/openai/v1/realtime' } as const;

describe.each(['openai', 'azure-openai'] as const)(
  'the OpenAI Agents SDK (realtime) against the %s profile',
  (profile) => {
    let emu: RealtimeEmulator;
    beforeAll(async () => {
      emu = await startRealtimeEmulator({ profile, apiKeys: [KEY], useEspeak: false });
    });
    afterAll(async () => {
      await emu?.stop();
    });

    it('runs a tool call end to end over its WebSocket transport', async () => {
      const calls: string[] = [];
      const getOrder = tool({
        name: 'get_order',
        description: 'Look up an order',
        parameters: z.object({ orderId: z.string() }),
        execute: async ({ orderId }) => {
          calls.push(orderId);
          return JSON.stringify({ status: 'delivered' });
        },
      });
      const agent = new RealtimeAgent({ name: 'support', instructions: 'You are a support agent.', tools: [getOrder] });
      const session = new RealtimeSession(agent, {
        transport: 'websocket',
        model: 'gpt-realtime',
        config: { outputModalities: ['text'] },
      });
      await session.connect({
        apiKey: KEY,
        url: `${emu.url.replace('http', 'ws')}${PATHS[profile]}?model=gpt-realtime`,
      });
      const answered = new Promise<string>((resolve) => {
        session.on('history_updated', (history) => {
          const last = history.at(-1);
          if (last?.type === 'message' && last.role === 'assistant' && last.status === 'completed') {
            const text = last.content
              .map((c) => ('text' in c ? c.text : 'transcript' in c ? c.transcript : ''))
              .join('');
            if (text.includes('delivered')) resolve(text);
          }
        });
      });
      session.sendMessage('Where is my order 4321?');
      expect(await answered).toBe('Order 4321 is delivered.');
      expect(calls).toEqual(['4321']);
      session.close();
    });
  },
);
