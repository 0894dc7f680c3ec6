import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Stack } from '../../dev/stack';
import { TestPeer } from '../emulator/webrtc-peer';
import { emulatorSession, hangupAsCaller, stateWatcher, storesOf, waitUntil } from '../lifecycle/helpers';
import { startChaosStack } from './helpers';

/**
 * The realtime service refuses the worker's sideband WebSocket upgrade (503, then 429) a few times when a
 * browser session's call is registered: the worker's attach fails with a retryable error, the lifecycle tries
 * again within its attach budget, and the session goes live once — one sideband, no second worker.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startChaosStack();
});
afterAll(async () => {
  await fetch(`${stack.url('realtime emulator')}/_emulator/faults`, { method: 'DELETE' }).catch(() => {});
  await stack?.stop();
});

const faults = (spec: unknown) =>
  fetch(`${stack.url('realtime emulator')}/_emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });

/** A plain upgrade to the emulator: `open`, or the HTTP status it was refused with. */
function probeUpgrade(): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(
      `${stack.url('realtime emulator').replace(/^http/, 'ws')}/openai/v1/realtime?model=gpt-realtime`,
      {
        headers: { 'api-key': stack.env.REALTIME_API_KEY ?? 'emulator-dev-key' },
      },
    );
    ws.on('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`));
    ws.on('open', () => (resolve('open'), ws.close()));
    ws.on('error', (err) => resolve(`error ${err.message}`));
  });
}

describe('sideband upgrade refused by the realtime service', () => {
  for (const status of [503, 429]) {
    it(`${status} on the first upgrades: the attach is retried and the session goes live once`, async () => {
      const api = stack.url('functions');
      const headers = { 'content-type': 'application/json', 'x-user-id': `chaos-refused-${status}` };
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
      const peer = new TestPeer();
      try {
        expect((await peer.connect(webrtcUrl, clientSecret)).status).toBe(201);
        // From here on the only realtime calls are the worker's sideband upgrades.
        expect(
          (await faults({ rest: { status, times: 3, match: '/v1/realtime', retryAfterSeconds: 0 } })).status,
        ).toBeLessThan(300);
        const states = stateWatcher(stack, sessionId);
        const reg = await fetch(`${api}/sessions/${sessionId}/call`, {
          method: 'POST',
          headers,
          body: JSON.stringify({ callId: peer.callId }),
        });
        expect(reg.status).toBe(202);
        const live = await states.until('live', 15_000);
        // The three refusals were used up — by the worker's upgrades, the only ones in that window.
        expect(await probeUpgrade()).toBe('open');
        expect(live.path).toEqual(['requested', 'attaching', 'live']);
        expect(live.reattachAttempts).toBe(0);
        // The page's data channel and exactly one sideband: a retried attach did not leave a second socket behind.
        await waitUntil(
          'one sideband next to the page',
          async () => (await emulatorSession(stack, peer.callId))?.connections === 2,
        );

        // It works: the page types, the worker runs the tool, the page sees the answer.
        peer.send({
          type: 'conversation.item.create',
          item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is my order 1234' }] },
        });
        peer.send({ type: 'response.create' });
        await waitUntil('answer on the data channel', async () => peer.answers().some((a) => a.includes('1234')));
        const rows = await waitUntil('transcript rows', async () => {
          const r = await storesOf(stack).history.forSession(`user:chaos-refused-${status}`, sessionId);
          return r.length >= 3 && r;
        });
        expect(rows.filter((r) => r.role === 'tool')).toHaveLength(1);
        await hangupAsCaller(stack, peer.callId);
        await states.until('ended');
        await states.stop();
      } finally {
        await fetch(`${stack.url('realtime emulator')}/_emulator/faults`, { method: 'DELETE' });
        await peer.close();
      }
    });
  }
});
