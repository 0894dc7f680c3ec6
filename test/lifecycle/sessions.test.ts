import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../dev/stack';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import { TestPeer } from '../emulator/webrtc-peer';
import {
  callerClient,
  emulatorSession,
  hangupAsCaller,
  incomingSipCall,
  say,
  startLifecycleStack,
  stateWatcher,
  storesOf,
  waitUntil,
} from './helpers';

let stack: Stack;
beforeAll(async () => {
  stack = await startLifecycleStack();
});
afterAll(async () => stack?.stop());

const api = () => stack.url('functions');

describe('session lifecycle on the local stack', () => {
  it('a SIP call goes requested → attaching → live → ending → ended, with one tool run and its transcript stored', async () => {
    const callId = await incomingSipCall(stack, '+15550001111');
    const sessionId = sessionIdForCall(callId);
    const states = stateWatcher(stack, sessionId);
    const live = await states.until('live');
    expect(live.workerId).toBeTruthy();
    expect(stack.workers!.replicas.map((r) => r.workerId)).toContain(live.workerId);

    const caller = await callerClient(stack, callId);
    say(caller, 'where is my order 1234');
    const { toolRuns, history } = storesOf(stack);
    // The worker ran get_order once, sent the output, and the model answered with it (a stranger's number: the
    // tool refuses until the caller verifies, and the answer says so).
    const answer = await caller.waitFor(
      'response.output_item.done',
      (e) => e.item.type === 'message' && JSON.stringify(e.item).includes('not verified'),
      { timeoutMs: 15_000 },
    );
    expect(answer).toBeTruthy();
    const runs = await waitUntil('tool run delivered', async () => {
      const all = await toolRuns.undelivered(sessionId);
      return all.length === 0 &&
        (await emulatorSession(stack, callId))?.transcript.some((t) => t.type === 'function_call_output')
        ? true
        : undefined;
    });
    expect(runs).toBe(true);
    const items = await waitUntil('transcript rows', async () => {
      const rows = await history.forSession('sip:+15550001111', sessionId);
      return rows.length >= 3 ? rows : undefined;
    });
    expect(items.map((i) => i.role)).toEqual(expect.arrayContaining(['user', 'tool', 'assistant']));
    expect(items.find((i) => i.role === 'user')?.text).toBe('where is my order 1234');
    expect(items.find((i) => i.role === 'tool')).toMatchObject({ toolName: 'get_order' });

    caller.close();
    await hangupAsCaller(stack, callId);
    const ended = await states.until('ended');
    expect(ended.reason).toMatch(/call ended/);
    await states.stop();
    expect(ended.path).toEqual(['requested', 'attaching', 'live', 'ending', 'ended']);
    // The worker let go of the socket.
    await waitUntil('sideband closed', async () => (await emulatorSession(stack, callId))?.connections === 0);
  });

  it('a WebRTC session goes requested → attaching → live → ending → ended', async () => {
    const headers = { 'content-type': 'application/json', 'x-user-id': 'lifecycle-webrtc-user' };
    const created = await fetch(`${api()}/sessions`, {
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
    await states.until('requested');

    const peer = new TestPeer();
    try {
      const res = await peer.connect(webrtcUrl, clientSecret);
      expect(res.status).toBe(201);
      const reg = await fetch(`${api()}/sessions/${sessionId}/call`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ callId: peer.callId }),
      });
      expect(reg.status).toBe(202);
      const live = await states.until('live');
      expect(live.callId).toBe(peer.callId);

      // The browser types; the worker's sideband runs the tool; the browser hears (sees) the answer.
      peer.send({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is my order 1234' }] },
      });
      peer.send({ type: 'response.create' });
      await waitUntil('answer on the data channel', async () => peer.answers().some((a) => a.includes('1234')));
      const rows = await waitUntil('transcript rows', async () => {
        const r = await storesOf(stack).history.forSession('user:lifecycle-webrtc-user', sessionId);
        return r.length >= 3 ? r : undefined;
      });
      expect(rows.filter((r) => r.role === 'tool')).toHaveLength(1);

      await hangupAsCaller(stack, peer.callId);
      const ended = await states.until('ended');
      await states.stop();
      expect(ended.path).toEqual(['requested', 'attaching', 'live', 'ending', 'ended']);
    } finally {
      await peer.close();
    }
  });

  it('an invalid transition changes nothing: not the record, not its ETag, not the worker', async () => {
    const callId = await incomingSipCall(stack, '+15550002222');
    const sessionId = sessionIdForCall(callId);
    const states = stateWatcher(stack, sessionId);
    await states.until('live');
    await states.stop();
    const { lifecycle } = storesOf(stack);
    const before = await lifecycle.load(sessionId);
    const secret = stack.env.WORKER_AUTH_SECRET!;
    const report = (body: unknown, auth = `Bearer ${secret}`) =>
      fetch(`${api()}/internal/sessions/${sessionId}/report`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });

    // A worker that does not hold the session claims to have lost it: rejected.
    expect((await report({ type: 'workerLost', workerId: 'not-the-owner', reason: 'confused' })).status).toBe(202);
    const local = await lifecycle.load(sessionId);
    expect(local?.etag).toBe(before?.etag);
    expect(local?.record).toEqual(before?.record);
    // Without the worker secret nothing is applied at all.
    expect(
      (await report({ type: 'ended', workerId: 'x', reason: 'spoof' }, 'Bearer wrong-secret-wrong-secret')).status,
    ).toBe(401);
    const after = await lifecycle.load(sessionId);
    expect(after?.etag).toBe(before?.etag);
    expect(after?.record.state).toBe('live');
    // Malformed reports are a 400 naming the field.
    const bad = await report({ type: 'teleported', workerId: 'w' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    await hangupAsCaller(stack, callId);
    await stateWatcher(stack, sessionId).until('ended');
  });
});
