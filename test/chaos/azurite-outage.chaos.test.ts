import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../dev/stack';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import {
  callerClient,
  emulatorSession,
  hangupAsCaller,
  incomingSipCall,
  say,
  stateWatcher,
  storesOf,
  waitUntil,
} from '../lifecycle/helpers';
import { answerContaining, liveCall, startChaosStack, storableItems } from './helpers';

/**
 * Storage unavailable for 10 s: Azurite's process is frozen (SIGSTOP) — connections hang, nothing answers —
 * while a call is mid-conversation and a new call rings. After SIGCONT everything must recover: the turn
 * completes, every transcript item is stored once, the new call goes live (or is cleanly refused), and both
 * sessions end when hung up. Nothing is left stuck.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startChaosStack();
});
afterAll(async () => {
  // Never leave Azurite frozen, whatever happened.
  stack?.storage?.azurite.process.kill('SIGCONT');
  await stack?.stop();
});

describe('Azurite unavailable for 10 s', () => {
  it(
    'recovers: the turn in flight completes, the ringing call is handled, no item lost, nothing stuck',
    { timeout: 120_000 },
    async () => {
      const azurite = stack.storage!.azurite.process;
      // Maya, from the number on her account: verified by PIN before her order is looked up.
      const call = await liveCall(stack, '+14155550101');
      say(call.caller, 'my pin is 2468');
      await answerContaining(call.caller, 'you are verified');
      say(call.caller, 'where is my order 1234');
      await answerContaining(call.caller, '1234');

      // Freeze storage; the watcher's reads hang too, so stop it first.
      await call.states.stop();
      const outageMs = 10_000;
      expect(azurite.kill('SIGSTOP')).toBe(true);
      const stoppedAt = Date.now();
      let callB: string | undefined;
      try {
        // During the outage: the live call takes another turn (tool run needs storage: claim, complete) ...
        const from = call.caller.events.length;
        say(call.caller, 'please open a ticket for order 1234');
        // ... and a new call rings (its webhook needs storage to claim the delivery and create the session).
        callB = await incomingSipCall(stack, '+15550009002');
        await new Promise((r) => setTimeout(r, Math.max(0, outageMs - (Date.now() - stoppedAt))));
        expect(azurite.kill('SIGCONT')).toBe(true);
        console.log(`storage frozen for ${Date.now() - stoppedAt} ms`);

        // The turn started in the outage completes once storage is back.
        await answerContaining(call.caller, /ticket/i, { from, timeoutMs: 30_000 });
      } finally {
        azurite.kill('SIGCONT');
      }

      // The ringing call was accepted after the outage (the webhook is retried) — or refused cleanly; never half-done.
      const sessionB = sessionIdForCall(callB!);
      const watchB = stateWatcher(stack, sessionB);
      const b = await waitUntil(
        'call B settled',
        async () => {
          const s = (await fetch(`${stack.url('realtime emulator')}/_emulator/sessions`).then((r) => r.json())) as {
            calls: { id: string; state: string }[];
          };
          const state = s.calls.find((c) => c.id === callB)?.state;
          if (state === 'active') return (watchB.current?.state === 'live' && 'live') || undefined;
          return state && state !== 'ringing' ? state : undefined;
        },
        40_000,
        250,
      );
      console.log(`call B after the outage: ${b}`);
      if (b === 'live') {
        const callerB = await callerClient(stack, callB!);
        say(callerB, 'where is my order 1234');
        await answerContaining(callerB, 'not verified');
        callerB.close();
        await hangupAsCaller(stack, callB!);
        await watchB.until('ended', 20_000);
      }
      await watchB.stop();

      // Call A: every item of the conversation is stored exactly once; no tool run left undelivered.
      const expected = await storableItems(stack, call.callId);
      expect(expected.filter((e) => e.role === 'tool')).toHaveLength(3);
      const { history, toolRuns } = storesOf(stack);
      const rows = await waitUntil(
        'history complete',
        async () => {
          const r = await history.forSession(call.partition, call.sessionId);
          return r.length >= expected.length && r;
        },
        20_000,
      );
      expect(rows.map((r) => [r.role, r.text.trim()]).sort()).toEqual(expected.map((e) => [e.role, e.text]).sort());
      await waitUntil('every tool run marked delivered', async () =>
        (await toolRuns.undelivered(call.sessionId)).length === 0 ? true : undefined,
      );
      const outputs = (await emulatorSession(stack, call.callId))!.transcript.filter(
        (t) => t.type === 'function_call_output',
      );
      expect(outputs).toHaveLength(2);

      // The session is still held (the lifecycle did not give up on it during the outage) and ends cleanly.
      const watchA = stateWatcher(stack, call.sessionId);
      const a = await watchA.until('live', 20_000);
      expect(a.state).toBe('live');
      call.caller.close();
      await hangupAsCaller(stack, call.callId);
      await watchA.until('ended', 20_000);
      await watchA.stop();
    },
  );
});
