import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import { incomingSipCall, stateWatcher, waitUntil } from './helpers';

/** No re-attach allowed: losing the worker must fail the session cleanly and hang the call up. */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    ports: 'free',
    env: {
      HEARTBEAT_INTERVAL_SECONDS: '1',
      HEARTBEAT_TIMEOUT_SECONDS: '2',
      WORKER_REPLICAS: '1',
      MAX_REATTACH_ATTEMPTS: '0',
    },
  });
});
afterAll(async () => stack?.stop());

describe('re-attach attempts exhausted', () => {
  it('fails the session and hangs up the call when its worker is lost and no attempt is left', async () => {
    const callId = await incomingSipCall(stack, '+15550005555');
    const sessionId = sessionIdForCall(callId);
    const states = stateWatcher(stack, sessionId);
    await states.until('live');
    stack.workers!.kill(0, 'SIGKILL');
    const failed = await states.until('failed', 10_000);
    await states.stop();
    expect(failed.reason).toMatch(/re-attach attempts exhausted/);
    expect(failed.path).toEqual(['requested', 'attaching', 'live', 'failed']);
    const calls = async () =>
      (
        (await fetch(`${stack.url('realtime emulator')}/_emulator/sessions`).then((r) => r.json())) as {
          calls: { id: string; state: string }[];
        }
      ).calls;
    const call = await waitUntil('call hung up', async () =>
      (await calls()).find((c) => c.id === callId && c.state === 'ended'),
    );
    expect(call.state).toBe('ended');
  });
});
