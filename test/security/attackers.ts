import type { Stack } from '../../dev/stack';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import { TestPeer } from '../emulator/webrtc-peer';
import { callerClient, emulatorSession, hangupAsCaller, incomingSipCall, say, waitUntil } from '../lifecycle/helpers';

/**
 * The people in the attack scenarios, reaching the local stack only the way real ones can: a signed-in web user
 * (POST /api/sessions, WebRTC to the emulator, POST /call) or a phone caller (the emulator's SIP endpoint; the
 * `From` number is whatever the caller claims). What the model received is read from the emulator's transcript.
 */
export interface Turn {
  /** function_call_output texts the worker sent in this turn. */
  outputs: string[];
  /** The model's answer that followed them. */
  answer: string;
}

export interface Caller {
  sessionId: string;
  callId: string;
  /** Says `text` and waits for the answer to the tool call it causes (or any answer when `tool` is false). */
  turn(text: string, opts?: { tool?: boolean }): Promise<Turn>;
  /** Everything the model has been given so far (seeded memory included). */
  transcript(): Promise<{ role: string; type: string; text: string }[]>;
  hangUp(): Promise<void>;
}

const api = (stack: Stack) => stack.url('functions');
const headers = (userId: string) => ({ 'x-user-id': userId, 'content-type': 'application/json' });

async function sessionState(stack: Stack, userId: string, sessionId: string): Promise<string | undefined> {
  const res = await fetch(`${api(stack)}/sessions/${sessionId}`, { headers: headers(userId) });
  return res.ok ? ((await res.json()) as { state: string }).state : undefined;
}

/**
 * One turn: what the model got and said. It ends when the answer's response is done (the service refuses a new
 * `response.create` while one is active), counted on the caller's own event stream.
 */
function turnOn(stack: Stack, callId: string, send: (text: string) => void, answersDone: () => number): Caller['turn'] {
  return async (text, opts = {}) => {
    const before = (await emulatorSession(stack, callId))?.transcript.length ?? 0;
    const done = answersDone();
    send(text);
    const turn = await waitUntil(
      `the answer to "${text}"`,
      async () => {
        const items = (await emulatorSession(stack, callId))?.transcript.slice(before) ?? [];
        const lastOutput = items.map((t) => t.type).lastIndexOf('function_call_output');
        if (opts.tool !== false && lastOutput < 0) return undefined;
        const answer = items
          .slice(lastOutput + 1)
          .find((t) => t.type === 'message' && t.role === 'assistant' && t.text);
        if (!answer) return undefined;
        return {
          outputs: items.filter((t) => t.type === 'function_call_output').map((t) => t.text),
          answer: answer.text,
        };
      },
      30_000,
    );
    // The answer as the caller receives it (a page's filtered data channel carries no response.done).
    await waitUntil('the answer to finish', async () => answersDone() > done);
    return turn;
  };
}

/** A signed-in web user on a WebRTC call with `agentId`, live (the worker attached). */
export async function webUser(stack: Stack, userId: string, agentId = 'customer-support'): Promise<Caller> {
  const res = await fetch(`${api(stack)}/sessions`, {
    method: 'POST',
    headers: headers(userId),
    body: JSON.stringify({ agentId }),
  });
  if (res.status !== 201) throw new Error(`POST /api/sessions answered ${res.status}: ${await res.text()}`);
  const s = (await res.json()) as { sessionId: string; clientSecret: string; webrtcUrl: string };
  const peer = new TestPeer();
  const answer = await peer.connect(s.webrtcUrl, s.clientSecret);
  if (answer.status !== 201) throw new Error(`WebRTC offer answered ${answer.status}`);
  const reg = await fetch(`${api(stack)}/sessions/${s.sessionId}/call`, {
    method: 'POST',
    headers: headers(userId),
    body: JSON.stringify({ callId: peer.callId }),
  });
  if (reg.status !== 202) throw new Error(`POST /call answered ${reg.status}: ${await reg.text()}`);
  await waitUntil(
    'the worker to attach',
    async () => (await sessionState(stack, userId, s.sessionId)) === 'live',
    30_000,
  );
  const callId = peer.callId;
  return {
    sessionId: s.sessionId,
    callId,
    turn: turnOn(
      stack,
      callId,
      (text) => {
        peer.send({
          type: 'conversation.item.create',
          item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] },
        });
        peer.send({ type: 'response.create' });
      },
      () => peer.answers().length,
    ),
    transcript: async () => (await emulatorSession(stack, callId))?.transcript ?? [],
    hangUp: async () => {
      await hangupAsCaller(stack, callId);
      await peer.pc.close();
      await waitUntil('the session to end', async () => (await sessionState(stack, userId, s.sessionId)) === 'ended');
    },
  };
}

/** A phone caller claiming `from` (a number, or a SIP URI such as `sip:anonymous@anonymous.invalid`). */
export async function phoneCaller(stack: Stack, from: string, to = '+18005550100'): Promise<Caller> {
  const callId = await incomingSipCall(stack, from, to);
  const sessionId = sessionIdForCall(callId);
  await waitUntil(
    'the phone call to go live',
    async () => ((await emulatorSession(stack, callId))?.connections ?? 0) >= 1,
    30_000,
  );
  const client = await callerClient(stack, callId);
  return {
    sessionId,
    callId,
    turn: turnOn(
      stack,
      callId,
      (text) => say(client, text),
      () =>
        client.events.filter(
          (e) => e.type === 'response.output_text.done' || e.type === 'response.output_audio_transcript.done',
        ).length,
    ),
    transcript: async () => (await emulatorSession(stack, callId))?.transcript ?? [],
    hangUp: async () => {
      client.close();
      await hangupAsCaller(stack, callId);
    },
  };
}
