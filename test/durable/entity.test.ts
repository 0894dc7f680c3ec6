import { describe, expect, it } from 'vitest';
import {
  fleetEntityOperation,
  sessionEntityOperation,
  workerEntityOperation,
  type SessionEntityState,
  type WorkerEntityState,
} from '../../functions/durable/entity';
import type { LifecycleOperation } from '../../shared/lifecycle/operations';

const opts = { sessionId: 's1', maxReattachAttempts: 1 };
const requested: LifecycleOperation = { type: 'requested', agentId: 'a', userId: 'u', transport: 'webrtc', at: 1 };

function apply(state: SessionEntityState, op: LifecycleOperation, instanceId = 'op-1') {
  const out = sessionEntityOperation(state, 'apply', { op, instanceId }, opts);
  return { ...out, state: out.next ?? { record: null } };
}

describe('session entity', () => {
  it('tells worker entities about holder changes only, and lists the instances that touched it', () => {
    let s: SessionEntityState = { record: null };
    let out = apply(s, requested, 'supervisor-s1');
    expect(out.holder).toBeUndefined();
    s = out.state;
    s = apply(s, { type: 'callRegistered', callId: 'c', at: 2 }, 'op-a').state;
    out = apply(s, { type: 'attached', workerId: 'w1', at: 3 }, 'op-a');
    expect(out.holder).toEqual({ hold: 'w1' });
    s = out.state;
    out = apply(s, { type: 'workerLost', workerId: 'w1', reason: 'silent', at: 4 }, 'op-b');
    expect(out.holder).toEqual({ release: 'w1' });
    s = out.state;
    expect(s.instances).toEqual(['supervisor-s1', 'op-a', 'op-b']);
    // Rejected operations change no holder.
    expect(apply(s, { type: 'attached', workerId: 'w1', at: 5 }, 'op-c').holder).toBeUndefined();
  });

  it('retire deletes the state of a finished session only; watch marks it supervised', () => {
    let s = apply({ record: null }, requested).state;
    expect(sessionEntityOperation(s, 'retire', undefined, opts)).toMatchObject({
      changed: false,
      result: { retired: false },
    });
    const watched = sessionEntityOperation(s, 'watch', undefined, opts);
    expect(watched.next).toMatchObject({ watched: true });
    s = apply(watched.next!, { type: 'ended', reason: 'x', at: 2 }).state;
    expect(sessionEntityOperation(s, 'retire', undefined, opts)).toMatchObject({
      next: null,
      result: { retired: true, instances: ['op-1'] },
    });
    expect(apply({ record: null }, requested).result).toMatchObject({ watched: false });
  });
});

describe('worker entity', () => {
  const run = (s: WorkerEntityState, op: string, input?: unknown) => workerEntityOperation(s, op, input);
  it('holds, releases, beats, answers drops until acknowledged, and hands over exactly what it held when lost', () => {
    let s: WorkerEntityState = { held: [], released: [] };
    s = run(s, 'hold', 'a').next!;
    s = run(s, 'hold', 'b').next!;
    s = run(s, 'release', 'a').next!;
    expect(s).toMatchObject({ held: ['b'], released: ['a'] });
    s = run(s, 'beat', { at: 10, ack: ['a'] }).next!;
    expect(s).toMatchObject({ lastBeatAt: 10, released: [] });
    const lost = run(s, 'lost', { at: 20 });
    expect(lost.result).toEqual(['b']);
    expect(lost.next).toMatchObject({ held: [], released: ['b'], lostAt: 20 });
    expect(run(lost.next!, 'retire').result).toEqual({ retired: true });
    expect(run({ held: ['x'], released: [] }, 'retire').result).toEqual({ retired: false });
    expect(run({ held: [], released: [] }, 'retire').next).toBeNull();
  });

  it('the fleet entity sums what the worker supervisors report and forgets retired workers', () => {
    let f = fleetEntityOperation({ workers: {} }, 'report', { workerId: 'w1', live: 3, at: 1 });
    f = fleetEntityOperation(f, 'report', { workerId: 'w2', live: 0, at: 1 });
    expect(Object.keys(f.workers)).toEqual(['w1', 'w2']);
    f = fleetEntityOperation(f, 'report', { workerId: 'w2', live: -1, at: 2 });
    expect(f.workers).toEqual({ w1: { live: 3, at: 1 } });
  });
});
