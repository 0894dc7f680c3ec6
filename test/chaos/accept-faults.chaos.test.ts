import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../dev/stack';
import { supervisorDecision, supervisorTimeouts } from '../../shared/lifecycle/supervisor';
import { createSessionStore } from '../../shared/stores/sessions';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import { emulatorSession, incomingSipCall, stateWatcher, storesOf, waitUntil } from '../lifecycle/helpers';
import { answerContaining, startChaosStack } from './helpers';
import { callerClient, hangupAsCaller, say } from '../lifecycle/helpers';

/** The realtime service answers `POST /calls/{id}/accept` with 429 or 500: retried, or failed cleanly. */
let stack: Stack;
beforeAll(async () => {
  stack = await startChaosStack();
});
afterAll(async () => stack?.stop());
afterEach(() => fetch(`${stack.url('realtime emulator')}/_emulator/faults`, { method: 'DELETE' }));

const faults = (spec: unknown) =>
  fetch(`${stack.url('realtime emulator')}/_emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });

type CallSummary = {
  id: string;
  state: string;
  webhooks: { delivered: boolean; attempts: { status?: number; error?: string }[] }[];
};
async function callOf(callId: string): Promise<CallSummary | undefined> {
  const s = (await fetch(`${stack.url('realtime emulator')}/_emulator/sessions`).then((r) => r.json())) as {
    calls: CallSummary[];
  };
  return s.calls.find((c) => c.id === callId);
}

async function liveAfterFault(from: string) {
  const callId = await incomingSipCall(stack, from);
  const sessionId = sessionIdForCall(callId);
  const states = stateWatcher(stack, sessionId);
  const live = await states.until('live', 20_000);
  await states.stop();
  return { callId, sessionId, live };
}

describe('accept refused by the realtime service', () => {
  it('a 500 on accept: the webhook is answered 5xx, the retry accepts, the session goes live once', async () => {
    expect((await faults({ rejectAccept: { status: 500, times: 1 } })).status).toBeLessThan(300);
    const { callId, sessionId, live } = await liveAfterFault('+15550007001');
    expect(live.path).toEqual(['requested', 'attaching', 'live']);
    const call = await callOf(callId);
    expect(call?.state).toBe('active');
    const delivery = call!.webhooks[0]!;
    expect(delivery.delivered).toBe(true);
    // First attempt failed with a server error (the accept failure surfaced), a later one succeeded.
    expect(delivery.attempts.length).toBeGreaterThanOrEqual(2);
    expect(delivery.attempts[0]!.status).toBeGreaterThanOrEqual(500);
    expect(delivery.attempts.at(-1)!.status).toBe(200);
    // One session, one sideband: the retried delivery did not attach a second worker.
    await waitUntil('one sideband', async () => (await emulatorSession(stack, callId))?.connections === 1);

    // And it works: a tool call and an answer.
    const caller = await callerClient(stack, callId);
    // A stranger's number: get_order runs and refuses until the caller verifies (orders have owners).
    say(caller, 'where is my order 1234');
    await answerContaining(caller, 'not verified');
    caller.close();
    await hangupAsCaller(stack, callId);
    const end = stateWatcher(stack, sessionId);
    await end.until('ended');
    await end.stop();
  });

  it('429s on accept are retried until the call is accepted', async () => {
    await faults({ rejectAccept: { status: 429, times: 2 } });
    const { callId, sessionId, live } = await liveAfterFault('+15550007002');
    expect(live.state).toBe('live');
    expect((await callOf(callId))?.state).toBe('active');
    await hangupAsCaller(stack, callId);
    const end = stateWatcher(stack, sessionId);
    await end.until('ended');
    await end.stop();
  });

  it('an accept that always fails leaves nothing attached or stuck: the call is never active and no worker holds it', async () => {
    await faults({ rejectAccept: { status: 500 } });
    const callId = await incomingSipCall(stack, '+15550007003');
    const sessionId = sessionIdForCall(callId);
    // The sender gives up after its retries (the emulator: 6 attempts over ~8 s).
    const call = await waitUntil(
      'webhook retries exhausted',
      async () => {
        const c = await callOf(callId);
        return c && c.webhooks[0]!.attempts.length >= 6 && c;
      },
      30_000,
      250,
    );
    expect(call.webhooks[0]!.delivered).toBe(false);
    expect(call.webhooks[0]!.attempts.every((a) => (a.status ?? 500) >= 500)).toBe(true);
    expect(call.state).toBe('ringing');
    // Nothing was attached: the lifecycle holds the session as `requested` only, no sideband on the call.
    const { lifecycle } = storesOf(stack);
    const record = (await lifecycle.load(sessionId))?.record;
    expect(record?.path).toEqual(['requested']);
    expect((await emulatorSession(stack, callId))?.connections ?? 0).toBe(0);
    // The service ends a call nobody accepts; the system then holds nothing for it.
    await waitUntil('call expired', async () => (await callOf(callId))?.state === 'expired', 40_000, 500);
    const after = (await lifecycle.load(sessionId))!.record;
    expect(after.state).toBe('requested');
    const row = await createSessionStore({ STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING }).get(
      sessionId,
    );
    expect(row?.state).toBe('requested');
    // Not stuck: the lifecycle's watchdog ends a session nobody connected once its idle timeout passes
    // (5 min, too long to wait for here; the decision it will take is checked instead).
    const timeouts = supervisorTimeouts({ HEARTBEAT_TIMEOUT_SECONDS: 2 });
    expect(supervisorDecision(after, after.stateSince + timeouts.idleTimeoutMs, timeouts)).toMatchObject({
      kind: 'apply',
      op: { type: 'ended' },
    });
  });
});
