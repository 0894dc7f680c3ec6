import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { loadFunctionsConfig } from '../../shared/config/index';
import { createHistoryStore } from '../../shared/memory/history-store';
import { historyPartition, type MemoryStore } from '../../shared/memory/types';
import { TestPeer } from '../emulator/webrtc-peer';

/**
 * Continuity across sessions on the whole local stack: browser stand-in (werift) → POST /api/sessions →
 * WebRTC to the emulator → call registered → lifecycle attaches the worker → worker seeds and records the
 * transcript → session ends → summary → the next session's model receives the earlier facts.
 */
const AGENT = 'concierge';

interface EmuSession {
  id: string;
  callId?: string;
  ended: boolean;
  transcript: { role: string; type: string; text: string }[];
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('conversation memory end to end (local stack)', () => {
  let stack: Stack;
  let api: string;
  let emulatorUrl: string;
  let history: MemoryStore;
  const peers: TestPeer[] = [];

  const headers = (userId: string) => ({ 'x-user-id': userId, 'content-type': 'application/json' });

  async function emulatorSession(callId: string): Promise<EmuSession | undefined> {
    const { sessions } = (await (await fetch(`${emulatorUrl}/_emulator/sessions`)).json()) as {
      sessions: EmuSession[];
    };
    return sessions.find((s) => s.callId === callId);
  }

  /** Starts a browser session for `userId` and waits until the worker has attached (and seeded). */
  async function startCall(userId: string, body: Record<string, unknown> = {}) {
    const res = await fetch(`${api}/sessions`, {
      method: 'POST',
      headers: headers(userId),
      body: JSON.stringify({ agentId: AGENT, ...body }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const s = (await res.json()) as { sessionId: string; clientSecret: string; webrtcUrl: string };
    const peer = new TestPeer();
    peers.push(peer);
    const answer = await peer.connect(s.webrtcUrl, s.clientSecret);
    expect(answer.status).toBe(201);
    const reg = await fetch(`${api}/sessions/${s.sessionId}/call`, {
      method: 'POST',
      headers: headers(userId),
      body: JSON.stringify({ callId: peer.callId }),
    });
    expect(reg.status).toBe(202);
    await until('the worker to attach', async () => {
      const st = (await (await fetch(`${api}/sessions/${s.sessionId}`, { headers: headers(userId) })).json()) as {
        state: string;
      };
      return st.state === 'live';
    });
    return { ...s, peer };
  }

  /** Types a user message on the data channel and waits for the model's answer. */
  async function say(peer: TestPeer, text: string) {
    const done = peer.answers().length;
    peer.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
    });
    peer.send({ type: 'response.create' });
    await until('an answer on the data channel', async () => peer.answers().length > done);
  }

  async function hangUp(userId: string, sessionId: string, peer: TestPeer, items: number) {
    // The service ends the call (a closed werift peer is only noticed at ICE consent expiry, ~30 s).
    const res = await fetch(`${emulatorUrl}/openai/v1/realtime/calls/${peer.callId}/hangup`, {
      method: 'POST',
      headers: { 'api-key': 'emulator-dev-key' },
    });
    expect(res.ok).toBe(true);
    await peer.pc.close();
    await until('the session to end', async () => {
      const st = (await (await fetch(`${api}/sessions/${sessionId}`, { headers: headers(userId) })).json()) as {
        state: string;
      };
      return st.state === 'ended';
    });
    // The worker flushes the transcript on detach.
    await until(
      'the transcript to be stored',
      async () => (await history.forSession(historyPartition({ userId }), sessionId)).length >= items,
    );
  }

  beforeAll(async () => {
    stack = await startStack({ ports: 'free', env: { WORKER_REPLICAS: '1' } });
    api = stack.url('functions');
    emulatorUrl = stack.url('realtime emulator');
    const config = loadFunctionsConfig(stack.env);
    history = createHistoryStore(config);
  }, 120_000);
  afterAll(async () => {
    for (const p of peers) await p.pc.close().catch(() => {});
    await stack?.stop();
  });

  it('session 2 of the same user starts with session 1 facts in what the model receives', async () => {
    const one = await startCall('ada');
    await say(one.peer, 'Hello, my name is Ada and I live in Lisbon.');
    await hangUp('ada', one.sessionId, one.peer, 2);
    // The lifecycle's `ended` step summarizes the session with the text model (the emulator's, here).
    const summary = await until('the post-session summary', async () => {
      const st = (await (await fetch(`${api}/sessions/${one.sessionId}`, { headers: headers('ada') })).json()) as {
        transcript: { summary: string | null };
      };
      return st.transcript.summary ?? undefined;
    });
    expect(summary).toBe('- Name: Ada\n- Lives in: Lisbon');
    const row = (await (await fetch(`${api}/sessions/${one.sessionId}`, { headers: headers('ada') })).json()) as {
      timings: { liveAt?: number; endedAt?: number };
      transcript: { items: number };
    };
    expect(row.timings.liveAt).toBeGreaterThan(0);
    expect(row.timings.endedAt).toBeGreaterThanOrEqual(row.timings.liveAt!);
    expect(row.transcript.items).toBe(2);
    await until('the rolling summary', async () =>
      (await history.getSummary(historyPartition({ userId: 'ada' }), AGENT))?.text.includes('Ada'),
    );

    const two = await startCall('ada');
    const seen = await until('the seeded items at the emulator', async () => {
      const s = await emulatorSession(two.peer.callId);
      return s && s.transcript.length >= 3 ? s : undefined;
    });
    // The memory comes first (inserted at the root of the conversation), then the earlier turns in order.
    expect(seen.transcript[0]).toMatchObject({ role: 'user' });
    expect(seen.transcript[0]!.text).toContain('<<<earlier-conversations>>>');
    expect(seen.transcript.slice(1, 3).map((t) => t.role)).toEqual(['user', 'assistant']);
    const text = seen.transcript.map((t) => `${t.role}: ${t.text}`).join('\n');
    expect(text).toContain('Name: Ada');
    expect(text).toContain('Lives in: Lisbon');
    expect(text).toContain('my name is Ada and I live in Lisbon');
    // Seeded items are context, not new conversation: they are not stored again under session 2.
    await say(two.peer, 'What is the weather like?');
    await hangUp('ada', two.sessionId, two.peer, 2);
    const stored = await history.forSession(historyPartition({ userId: 'ada' }), two.sessionId);
    expect(stored.map((i) => i.text).join('\n')).not.toContain('Lisbon');
  }, 90_000);

  it('resume: false starts empty, and another user sees none of it', async () => {
    const [fresh, other, normal] = await Promise.all([
      startCall('ada', { resume: false }),
      startCall('bob'),
      startCall('ada'),
    ]);
    // The same user's ordinary session is seeded: by then the worker has attached the others too.
    const seeded = await until('the seed of the ordinary session', async () => {
      const s = await emulatorSession(normal.peer.callId);
      return s && s.transcript.some((t) => t.text.includes('Name: Ada')) ? s : undefined;
    });
    expect(seeded.transcript.length).toBeGreaterThan(1);
    for (const s of [fresh, other]) {
      const seen = await until('the emulator session', () => emulatorSession(s.peer.callId));
      expect(seen.transcript.map((t) => t.text).join('\n')).not.toMatch(/Ada|Lisbon|weather/);
    }
  }, 60_000);

  it('a dropped call reconnects to the same session id and continues with its own context', async () => {
    const first = await startCall('cleo', { resume: false });
    await say(first.peer, 'My name is Cleo and my order number is 4711.');
    await hangUp('cleo', first.sessionId, first.peer, 2);

    const res = await fetch(`${api}/sessions`, {
      method: 'POST',
      headers: headers('cleo'),
      body: JSON.stringify({ agentId: AGENT, resumeSessionId: first.sessionId }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const again = (await res.json()) as {
      sessionId: string;
      clientSecret: string;
      webrtcUrl: string;
      resumed: boolean;
    };
    expect(again).toMatchObject({ sessionId: first.sessionId, resumed: true });
    const peer = new TestPeer();
    peers.push(peer);
    expect((await peer.connect(again.webrtcUrl, again.clientSecret)).status).toBe(201);
    const reg = await fetch(`${api}/sessions/${again.sessionId}/call`, {
      method: 'POST',
      headers: headers('cleo'),
      body: JSON.stringify({ callId: peer.callId }),
    });
    expect(reg.status, await reg.clone().text()).toBe(202);
    const seen = await until('the resumed session to be seeded', async () => {
      const s = await emulatorSession(peer.callId);
      return s && s.transcript.some((t) => t.text.includes('order number is 4711')) ? s : undefined;
    });
    expect(seen.transcript.map((t) => t.text).join('\n')).toContain('My name is Cleo');
  }, 60_000);

  it('reconnecting before the drop is noticed closes the old call, then resumes on retry', async () => {
    const first = await startCall('dora');
    await say(first.peer, 'My name is Dora.');
    const resume = () =>
      fetch(`${api}/sessions`, {
        method: 'POST',
        headers: headers('dora'),
        body: JSON.stringify({ agentId: AGENT, resumeSessionId: first.sessionId }),
      });
    const busy = await resume();
    expect(busy.status).toBe(409);
    expect(busy.headers.get('retry-after')).toBe('1');
    expect((await busy.json()).error.code).toBe('resume_still_active');
    // The old call is hung up by the lifecycle; the client's retry then resumes the same session.
    const again = await until('the resume to be accepted', async () => {
      const r = await resume();
      return r.status === 201
        ? ((await r.json()) as { sessionId: string; clientSecret: string; webrtcUrl: string })
        : undefined;
    });
    expect(again.sessionId).toBe(first.sessionId);
    const peer = new TestPeer();
    peers.push(peer);
    expect((await peer.connect(again.webrtcUrl, again.clientSecret)).status).toBe(201);
    const reg = await fetch(`${api}/sessions/${again.sessionId}/call`, {
      method: 'POST',
      headers: headers('dora'),
      body: JSON.stringify({ callId: peer.callId }),
    });
    expect(reg.status).toBe(202);
    await until('the resumed session to carry its own turns', async () => {
      const s = await emulatorSession(peer.callId);
      return s?.transcript.some((t) => t.text.includes('My name is Dora'));
    });
    expect((await emulatorSession(first.peer.callId))?.ended).toBe(true);
  }, 60_000);
});
