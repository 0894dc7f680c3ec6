import { createRequire } from 'node:module';
import df from 'durable-functions';
import { describe, expect, it } from 'vitest';
import type { LifecycleOperation } from '../../shared/lifecycle/operations';
import type { LifecycleRecord } from '../../shared/lifecycle/reducer';
import { sessionEntityOperation, type SessionEntityState } from '../../functions/durable/entity';
import {
  ACTIVITIES,
  sessionOperationOrchestrator,
  sessionSupervisorOrchestrator,
} from '../../functions/durable/orchestrations';

/**
 * The orchestrators under the durable-functions replay engine itself (its TaskOrchestrationExecutor, via the
 * library's testing helper): every episode re-runs the generator from the start over a growing history, as
 * the host does. This catches non-determinism and wrong task usage that a hand-rolled driver would not.
 * History events are built the way the Durable extension records them (ids = task sequence numbers).
 */
const require = createRequire(import.meta.url);
const { createOrchestrator, DurableOrchestrationInput } = require('durable-functions/lib/src/util/testingUtils.js') as {
  createOrchestrator: (
    fn: unknown,
  ) => (
    trigger: unknown,
    ctx: unknown,
  ) => Promise<{ isDone: boolean; actions: Action[][]; output?: unknown; error?: string }>;
  DurableOrchestrationInput: new (instanceId: string, history: unknown[], input: unknown) => unknown;
};

interface Action {
  actionType: number;
  functionName?: string;
  input?: unknown;
  operation?: string;
  instanceId?: string;
  fireAt?: string | Date;
}
const A = { CallActivity: 0, ContinueAsNew: 4, CreateTimer: 5, CallEntity: 7 };
const H = {
  ExecutionStarted: 0,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
};

function durableWorld(activities: Record<string, (input: unknown) => unknown>, maxReattachAttempts = 2) {
  const entities = new Map<string, SessionEntityState>();
  const calls: { name: string; input: unknown }[] = [];
  const entity = (instanceId: string, op: string, input: unknown) => {
    const key = instanceId.replace(/^@session@/, '');
    const state = entities.get(key) ?? { record: null };
    const out = sessionEntityOperation(state, op, input, { sessionId: key, maxReattachAttempts });
    if (out.changed) entities.set(key, out.state);
    return out.result;
  };

  async function run(fn: unknown, input: unknown, startMs = Date.UTC(2026, 10, 27, 5)) {
    const orch = createOrchestrator(fn);
    let clock = startMs;
    const history: Record<string, unknown>[] = [
      { EventType: H.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: new Date(clock) },
      {
        EventType: H.ExecutionStarted,
        EventId: -1,
        IsPlayed: false,
        Timestamp: new Date(clock),
        Name: 'orchestration',
        Input: JSON.stringify(input),
      },
    ];
    let handled = 0;
    for (let episode = 0; episode < 200; episode++) {
      const trigger = new DurableOrchestrationInput(
        'instance-1',
        history.map((e) => ({ ...e })),
        input,
      );
      const out = await orch(
        trigger,
        new df.DummyOrchestrationContext('orchestration', `episode-${episode}`, () => {}),
      );
      if (out.error) throw new Error(`orchestrator failed: ${out.error}`);
      const actions = out.actions.flat();
      const cont = actions.find((a) => a.actionType === A.ContinueAsNew);
      if (cont)
        return {
          output: out.output,
          continuedWith: cont.input as Record<string, unknown>,
          actions,
          episodes: episode + 1,
          clock,
        };
      if (out.isDone) return { output: out.output, actions, episodes: episode + 1, clock };
      const fresh = actions.slice(handled);
      if (fresh.length === 0) throw new Error('orchestration waits on nothing');
      const scheduled: Record<string, unknown>[] = [];
      const completed: Record<string, unknown>[] = [];
      fresh.forEach((a, i) => {
        const id = handled + i;
        const at = new Date(clock);
        if (a.actionType === A.CallActivity) {
          calls.push({ name: a.functionName!, input: a.input });
          const result = activities[a.functionName!]?.(a.input);
          scheduled.push({
            EventType: H.TaskScheduled,
            EventId: id,
            IsPlayed: false,
            Timestamp: at,
            Name: a.functionName,
          });
          completed.push({
            EventType: H.TaskCompleted,
            EventId: -1,
            IsPlayed: false,
            Timestamp: at,
            TaskScheduledId: id,
            Result: JSON.stringify(result ?? null),
          });
        } else if (a.actionType === A.CreateTimer) {
          const fireAt = new Date(a.fireAt!);
          clock = Math.max(clock, fireAt.getTime());
          scheduled.push({ EventType: H.TimerCreated, EventId: id, IsPlayed: false, Timestamp: at, FireAt: fireAt });
          completed.push({
            EventType: H.TimerFired,
            EventId: -1,
            IsPlayed: false,
            Timestamp: fireAt,
            TimerId: id,
            FireAt: fireAt,
          });
        } else if (a.actionType === A.CallEntity) {
          const requestId = `req-${id}`;
          const result = entity(a.instanceId!, a.operation!, a.input);
          scheduled.push({
            EventType: H.EventSent,
            EventId: id,
            IsPlayed: false,
            Timestamp: at,
            Name: 'op',
            InstanceId: a.instanceId,
            Input: JSON.stringify({ id: requestId }),
          });
          completed.push({
            EventType: H.EventRaised,
            EventId: -1,
            IsPlayed: false,
            Timestamp: at,
            Name: requestId,
            Input: JSON.stringify({ result: JSON.stringify(result) }),
          });
        } else {
          throw new Error(`unexpected action type ${a.actionType}`);
        }
      });
      handled = actions.length;
      history.push(...scheduled, {
        EventType: H.OrchestratorCompleted,
        EventId: -1,
        IsPlayed: false,
        Timestamp: new Date(clock),
      });
      history.push(
        { EventType: H.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: new Date(clock) },
        ...completed,
      );
      for (const e of history) e.IsPlayed = true;
    }
    throw new Error('too many episodes');
  }
  return { run, entities, calls, record: (id: string) => (entities.get(id)?.record ?? null) as LifecycleRecord | null };
}

const requested = (at: number): LifecycleOperation => ({
  type: 'requested',
  agentId: 'support',
  userId: 'u1',
  transport: 'webrtc',
  at,
});
const timeouts = {
  heartbeatTimeoutMs: 2000,
  attachTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  endingTimeoutMs: 30_000,
  missingGraceMs: 5000,
};

describe('Durable lifecycle under the durable-functions replay engine', () => {
  it('sessionOperation: callRegistered → attach activity → attached → live, deterministic across replays', async () => {
    let n = 0;
    const w = durableWorld({ [ACTIVITIES.attach]: () => ({ type: 'attached', workerId: `w${++n}`, at: 5 }) });
    await w.run(sessionOperationOrchestrator(), { sessionId: 's1', op: requested(1) });
    const r = await w.run(sessionOperationOrchestrator(), {
      sessionId: 's1',
      op: { type: 'callRegistered', callId: 'rtc_1', at: 2 },
    });
    expect(r.output).toEqual(['callRegistered: → attaching', 'attached: → live']);
    // Replays never re-ran an activity: one attach, and the emits (two transitions) each once.
    expect(w.calls.filter((c) => c.name === ACTIVITIES.attach)).toHaveLength(1);
    expect(w.calls.filter((c) => c.name === ACTIVITIES.emit).map((c) => (c.input as { state: string }).state)).toEqual([
      'requested',
      'attaching',
      'live',
    ]);
    expect(w.record('s1')).toMatchObject({ state: 'live', workerId: 'w1', path: ['requested', 'attaching', 'live'] });
  });

  it('sessionOperation: an operation that overtakes `requested` waits on durable timers, then applies', async () => {
    const w = durableWorld({ [ACTIVITIES.attach]: () => ({ type: 'attached', workerId: 'w1', at: 5 }) });
    const r = await w.run(sessionOperationOrchestrator(), {
      sessionId: 's2',
      op: { type: 'accepted', callId: 'rtc_sip', at: 1 },
    });
    expect(r.output).toEqual([expect.stringMatching(/^accepted: rejected \(accepted: no such session\)/)]);
    expect(r.actions.filter((a) => a.actionType === A.CreateTimer)).toHaveLength(5);
  });

  it('sessionSupervisor: sleeps to the deadline, then re-attaches a silent session and continues as new', async () => {
    let n = 0;
    const t0 = Date.UTC(2026, 10, 27, 5);
    const w = durableWorld({ [ACTIVITIES.attach]: () => ({ type: 'attached', workerId: `w${++n}`, at: t0 }) });
    await w.run(sessionOperationOrchestrator(), { sessionId: 's3', op: requested(t0) });
    await w.run(sessionOperationOrchestrator(), {
      sessionId: 's3',
      op: { type: 'callRegistered', callId: 'rtc_3', at: t0 },
    });
    expect(w.record('s3')).toMatchObject({ state: 'live', workerId: 'w1' });

    const sleep = await w.run(sessionSupervisorOrchestrator(timeouts), { sessionId: 's3' }, t0);
    expect(sleep.actions.map((a) => a.actionType)).toEqual([A.CallEntity, A.CreateTimer, A.ContinueAsNew]);
    expect(new Date(sleep.actions[1]!.fireAt!).getTime()).toBe(t0 + 2000); // lastHeartbeatAt (attached at t0) + timeout

    const wake = await w.run(sessionSupervisorOrchestrator(timeouts), sleep.continuedWith, t0 + 3000);
    expect(wake.continuedWith).toMatchObject({ sessionId: 's3' });
    expect(w.record('s3')).toMatchObject({ state: 'live', workerId: 'w2', reattachAttempts: 1, lostWorkers: ['w1'] });
    const lastAttach = w.calls.filter((c) => c.name === ACTIVITIES.attach).at(-1)!;
    expect(lastAttach.input).toMatchObject({ attempt: 1, avoidWorkers: ['w1'] });
  });

  it('sessionSupervisor: stops for an ended session', async () => {
    const w = durableWorld({ [ACTIVITIES.attach]: () => ({ type: 'attached', workerId: 'w1', at: 5 }) });
    await w.run(sessionOperationOrchestrator(), { sessionId: 's4', op: requested(1) });
    await w.run(sessionOperationOrchestrator(), { sessionId: 's4', op: { type: 'ended', reason: 'expired', at: 2 } });
    const r = await w.run(sessionSupervisorOrchestrator(timeouts), { sessionId: 's4' });
    expect(r.output).toBe('stopped: ended');
  });
});
