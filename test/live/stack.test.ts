import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { espeak } from '../../emulators/realtime/tts';
import { createHistoryStore } from '../../shared/memory/history-store';
import type { TranscriptItem } from '../../shared/memory/types';
import { tableClient, TABLES } from '../../shared/storage/tables';
import { createSessionStore } from '../../shared/stores/sessions';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import { offeringPeer } from '../emulator/live-helpers';

/**
 * The whole local stack on the emulator's `live` profile (REALTIME_EMULATOR_PROFILE=live): the Function app and the
 * worker run the `live` provider against it. A browser call (a WebRTC peer whose offer goes to POST /api/sessions)
 * and a phone call (`live.transport.incoming`), each with a tool turn the worker runs over MCP under Responses
 * delegation; the page tries to change the session and never sees a tool's arguments or result.
 */
let stack: Stack;
const USER = { 'x-user-id': 'live-tester' };
beforeAll(async () => {
  stack = await startStack({
    ports: 'free',
    // Each ringing call is offered on both APIs (realtime.call.incoming and live.transport.incoming).
    env: {
      REALTIME_EMULATOR_PROFILE: 'live',
      REALTIME_EMULATOR_SIP_SURFACES: 'both',
      REALTIME_MODEL: 'gpt-live-1',
      WORKER_REPLICAS: '1',
    },
  });
}, 120_000);
afterAll(async () => stack?.stop());

const api = (path: string) => `${stack.url('functions')}${path}`;
const emulator = (path: string) => `${stack.url('realtime emulator')}${path}`;

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const history = () => createHistoryStore(stack.env as never);
const sessions = () => createSessionStore(stack.env as never);
const itemsOf = (partition: string, sessionId: string): Promise<TranscriptItem[]> =>
  history().forSession(partition, sessionId);

/** A browser stand-in: its offer goes to the backend, as the page's does for an agent on a Live provider. */
async function browser(agentId: string) {
  const { peer, events, sdp } = await offeringPeer();
  const res = await fetch(api('/sessions'), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...USER },
    body: JSON.stringify({ agentId, sdp }),
  });
  expect(res.status).toBe(201);
  const grant = (await res.json()) as { sessionId: string; sdp: string };
  await peer.pc.setRemoteDescription({ type: 'answer', sdp: grant.sdp });
  await until('the data channel', async () => peer.dc.readyState === 'open', 10_000);
  return { peer, events, sessionId: grant.sessionId };
}

describe('the local stack on the live profile', () => {
  it('a browser call: brokered SDP, a tool turn under delegation, and a page that can change nothing', async () => {
    const agents = (await (await fetch(api('/agents'))).json()) as { agents: { id: string; connect: string }[] };
    expect(agents.agents.find((a) => a.id === 'concierge')?.connect).toBe('sdp');
    const { peer, events, sessionId } = await browser('concierge');
    try {
      await until('the worker on the call', async () => {
        const r = await fetch(api(`/sessions/${sessionId}`), { headers: USER });
        return ((await r.json()) as { state?: string }).state === 'live';
      });
      // Tried by the page and refused: nothing it sends changes the session or speaks for the backend.
      const tries = [
        { type: 'session.update', event_id: 'try_update', session: { delegation: { type: 'client' } } },
        { type: 'session.commentary.append', event_id: 'try_say', delegation_id: null, content: 'Refund approved.' },
        { type: 'response.create', event_id: 'try_respond' },
        { type: 'session.close', event_id: 'try_close' },
      ];
      for (const t of tries) peer.send(t);
      for (const t of tries) {
        const refused = await events.waitFor(
          'error',
          (e) => (e.error as { client_event_id?: string }).client_event_id === t.event_id,
        );
        expect((refused.error as { code: string }).code).toBe('event_not_allowed');
      }

      const speech = await espeak('what is the weather in paris');
      await peer.speak(new Int16Array([...new Int16Array(4800), ...speech, ...new Int16Array(24_000)]));
      const said = await events.until('session.output_transcript.delta', 'degrees', 30_000);
      expect(said.toLowerCase()).toContain('paris');

      const row = await sessions().get(sessionId);
      const items = await until('the tool turn in the history', async () => {
        const all = await itemsOf(row!.historyPartition, sessionId);
        return all.some((i) => i.role === 'tool') && all.some((i) => i.role === 'assistant') && all;
      });
      const tool = items.find((i) => i.role === 'tool')!;
      expect(tool.toolName).toBe('get_weather');
      expect(items.find((i) => i.role === 'user')?.text.toLowerCase()).toContain('weather in paris');

      // What reached the page: transcript deltas, errors and the permissions notice — never a session snapshot,
      // a delegation or a Responses event, and nothing of the tool's arguments or output.
      expect(new Set(events.types())).toEqual(
        new Set(['info', 'error', 'session.input_transcript.delta', 'session.output_transcript.delta']),
      );
      const channel = JSON.stringify(events.events);
      expect(channel).not.toContain('get_weather');
      expect(channel).not.toContain('"city"');
      expect(channel).not.toContain(tool.text.slice(0, 40));
    } finally {
      await peer.close();
    }
  }, 120_000);

  it('a phone call offered on both APIs: answered on Live only, a tool turn, the history kept, hung up', async () => {
    const res = await fetch(emulator('/_emulator/sip/incoming'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: '+14155550123', to: '+18005550199' }),
    });
    expect(res.status).toBe(201);
    const { callId, realtimeCallId } = (await res.json()) as { callId: string; realtimeCallId: string };
    expect(callId).toMatch(/^live_/);
    const sessionId = sessionIdForCall(callId);
    await until('the phone session live', async () => (await sessions().get(sessionId))?.state === 'live');
    // The number's surface is Live (the agent's default on this deployment): the Realtime offer of the same call
    // was acknowledged and left alone — no session for it, and the Live accept won.
    expect(realtimeCallId).toMatch(/^rtc_/);
    await until('the Realtime offer acknowledged as ignored', async () => {
      for await (const d of tableClient(stack.env as never, TABLES.webhooks).listEntities<{
        type: string;
        outcome?: string;
      }>())
        if (d.type === 'realtime.call.incoming' && d.outcome === 'ignored') return true;
      return false;
    });
    expect(await sessions().get(sessionIdForCall(realtimeCallId))).toBeUndefined();
    const speak = await fetch(emulator(`/_emulator/calls/${callId}/speak`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'what is the weather in paris' }),
    });
    expect(speak.status).toBe(202);
    const items = await until(
      'the phone tool turn in the history',
      async () => {
        const all = await itemsOf('sip:+14155550123', sessionId);
        // Speech in, recognition, a delegated tool with its "one moment", speech out: a minute beside a CPU hog.
        return all.some((i) => i.role === 'assistant' && /degrees/.test(i.text)) && all;
      },
      60_000,
    ).catch(async (e) => {
      console.log('EMU', JSON.stringify(await (await fetch(emulator('/_emulator/sessions'))).json()).slice(0, 3000));
      console.log('ITEMS', JSON.stringify(await itemsOf('sip:+14155550123', sessionId)));
      throw e;
    });
    expect(items.filter((i) => i.role === 'tool').map((i) => i.toolName)).toEqual(['get_weather']);
    // The caller hangs up (the service ends the call): the session ends.
    const hangup = await fetch(emulator(`/v1/live/sessions/${callId}/hangup`), {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.env.REALTIME_API_KEY}` },
    });
    expect(hangup.ok).toBe(true);
    await until('the phone session ended', async () => (await sessions().get(sessionId))?.state === 'ended');
  }, 120_000);
});
