import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import { TestPeer } from '../emulator/webrtc-peer';
import { emulatorSession, incomingSipCall, stateWatcher, storesOf, waitUntil } from '../lifecycle/helpers';

let stack: Stack;
const lines: string[] = [];
beforeAll(async () => {
  stack = await startStack({
    ports: 'free',
    env: { HEARTBEAT_INTERVAL_SECONDS: '1', HEARTBEAT_TIMEOUT_SECONDS: '8', WORKER_REPLICAS: '2' },
    log: (l) => lines.push(l),
  });
  // The local lifecycle logs to the console, as the Functions host collects it.
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void lines.push(a.map(String).join(' ')));
});
afterAll(async () => {
  vi.restoreAllMocks();
  await stack?.stop();
});

const api = () => stack.url('functions');
const as = (user: string) => ({ 'content-type': 'application/json', 'x-user-id': user });

async function startSession(user: string) {
  const res = await fetch(`${api()}/sessions`, {
    method: 'POST',
    headers: as(user),
    body: JSON.stringify({ agentId: 'customer-support' }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { sessionId: string; clientSecret: string; webrtcUrl: string };
}

const register = (user: string, sessionId: string, callId: string) =>
  fetch(`${api()}/sessions/${sessionId}/call`, {
    method: 'POST',
    headers: as(user),
    body: JSON.stringify({ callId }),
  });

async function browserCall(user: string) {
  const session = await startSession(user);
  const peer = new TestPeer();
  expect((await peer.connect(session.webrtcUrl, session.clientSecret)).status).toBe(201);
  return { ...session, peer, callId: peer.callId };
}

/** The attacker's session fails; no worker ever said anything on the victim's call. */
async function expectRefused(attackerSession: string) {
  const states = stateWatcher(stack, attackerSession);
  const failed = await states.until('failed', 20_000);
  await states.stop();
  expect(failed.reason).toMatch(/not made for this session/);
  expect(failed.path).not.toContain('live');
  // Nothing of the victim's conversation is stored under the attacker.
  expect(await storesOf(stack).history.forSession('user:mallory', attackerSession)).toEqual([]);
}

describe('a user who registers someone else’s call on their own session', () => {
  it('before the victim does: the attacker’s session fails untouched, the victim’s call goes on and goes live', async () => {
    const alice = await browserCall('alice');
    try {
      const mallory = await startSession('mallory');
      expect((await register('mallory', mallory.sessionId, alice.callId)).status).toBe(202);
      await expectRefused(mallory.sessionId);
      // The worker said nothing on Alice's call (a session.update would show up as session.updated on her channel).
      expect(alice.peer.events.filter((e) => e.type === 'session.updated')).toEqual([]);
      expect((await emulatorSession(stack, alice.callId))?.connections).toBe(1);

      // Alice's call was not hung up: she registers it and talks to her agent.
      expect((await register('alice', alice.sessionId, alice.callId)).status).toBe(202);
      const states = stateWatcher(stack, alice.sessionId);
      await states.until('live');
      await states.stop();
      alice.peer.send({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is my order 1234' }] },
      });
      alice.peer.send({ type: 'response.create' });
      await waitUntil(
        'alice hears her answer',
        async () => alice.peer.answers().some((a) => a.includes('1234')),
        30_000,
      );
    } finally {
      await alice.peer.close();
    }
  });

  it('after the victim did: the attacker’s session fails, the victim keeps one worker on her call', async () => {
    const alice = await browserCall('alice');
    try {
      expect((await register('alice', alice.sessionId, alice.callId)).status).toBe(202);
      const states = stateWatcher(stack, alice.sessionId);
      const live = await states.until('live');
      const mallory = await startSession('mallory');
      expect((await register('mallory', mallory.sessionId, alice.callId)).status).toBe(202);
      await expectRefused(mallory.sessionId);
      expect(states.current?.state).toBe('live');
      expect(states.current?.workerId).toBe(live.workerId);
      await states.stop();
      // Alice's page and one worker sideband: the attacker's worker let go at once.
      expect((await emulatorSession(stack, alice.callId))?.connections).toBe(2);
    } finally {
      await alice.peer.close();
    }
  });

  it('a phone caller’s call registered on a browser session is refused; the caller stays with their agent', async () => {
    const callId = await incomingSipCall(stack, '+15550101010');
    const sip = stateWatcher(stack, sessionIdForCall(callId));
    await sip.until('live');
    const mallory = await startSession('mallory');
    expect((await register('mallory', mallory.sessionId, callId)).status).toBe(202);
    await expectRefused(mallory.sessionId);
    expect(sip.current?.state).toBe('live');
    await sip.stop();
  });

  it('call ids never appear in the logs: they are hashed', async () => {
    const alice = await browserCall('alice');
    try {
      expect((await register('alice', alice.sessionId, alice.callId)).status).toBe(202);
      const states = stateWatcher(stack, alice.sessionId);
      await states.until('live');
      await states.stop();
      const mallory = await startSession('mallory');
      await register('mallory', mallory.sessionId, alice.callId);
      await expectRefused(mallory.sessionId);
      // The realtime emulator stands in for the service, whose own logs are not ours.
      const ours = lines.filter((l) => !/realtime emulator/i.test(l));
      expect(ours.filter((l) => l.includes(alice.callId))).toEqual([]);
    } finally {
      await alice.peer.close();
    }
  });
});
