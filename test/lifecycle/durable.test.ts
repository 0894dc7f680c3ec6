import { createRequire } from 'node:module';
import df from 'durable-functions';
import { describe, expect, it } from 'vitest';
import type { LifecycleOperation } from '../../shared/lifecycle/operations';
import type { LifecycleRecord } from '../../shared/lifecycle/reducer';
import type { SupervisorTimeouts } from '../../shared/lifecycle/supervisor';
import {
  sessionEntity,
  sessionEntityOperation,
  workerEntityOperation,
  type SessionEntityState,
} from '../../functions/durable/entity';
import {
  ACTIVITIES,
  sessionOperationOrchestrator,
  sessionSupervisorOrchestrator,
  type OrchestrationLike,
} from '../../functions/durable/orchestrations';

/**
 * A tiny stand-in for the Durable host: entities are the real entity operation over in-memory state,
 * activities are test functions, timers move the orchestration clock. It drives the real generators, so the
 * orchestration logic is tested without the Functions host (replay itself is the host's business).
 */
type Yielded =
  | { kind: 'entity'; key: string; op: string; input?: unknown }
  | { kind: 'activity'; name: string; input?: unknown }
  | { kind: 'timer'; at: number }
  | { kind: 'all'; tasks: Yielded[] };

function host(
  opts: {
    maxReattachAttempts?: number;
    activities?: Record<string, (input: unknown) => unknown>;
    onTimer?: () => void;
  } = {},
) {
  const entities = new Map<string, SessionEntityState>();
  const calls: { name: string; input: unknown }[] = [];
  let clock = 1_000_000;
  let continued: unknown;

  const resolve = (y: Yielded): unknown => {
    if (y.kind === 'entity') {
      const state = entities.get(y.key) ?? { record: null };
      const out = sessionEntityOperation(state, y.op, y.input, {
        sessionId: y.key,
        maxReattachAttempts: opts.maxReattachAttempts ?? 2,
      });
      if (out.changed) entities.set(y.key, out.state);
      return out.result;
    }
    if (y.kind === 'activity') {
      calls.push({ name: y.name, input: y.input });
      return opts.activities?.[y.name]?.(y.input);
    }
    if (y.kind === 'timer') {
      clock = Math.max(clock, y.at);
      opts.onTimer?.();
      return undefined;
    }
    return y.tasks.map(resolve);
  };

  const context = (input: unknown): OrchestrationLike =>
    ({
      log: () => {},
      df: {
        getInput: () => input,
        get currentUtcDateTime() {
          return new Date(clock);
        },
        callEntity: (id: { key: string }, op: string, i?: unknown) => ({ kind: 'entity', key: id.key, op, input: i }),
        callActivity: (name: string, i?: unknown) => ({ kind: 'activity', name, input: i }),
        createTimer: (d: Date) => ({ kind: 'timer', at: d.getTime() }),
        Task: { all: (tasks: Yielded[]) => ({ kind: 'all', tasks }) },
        continueAsNew: (i: unknown) => (continued = i),
      },
    }) as unknown as OrchestrationLike;

  function run<T>(gen: Generator<unknown, T, unknown>): T {
    let step = gen.next();
    while (!step.done) step = gen.next(resolve(step.value as Yielded));
    return step.value;
  }

  return {
    entities,
    calls,
    record: (id: string) => entities.get(id)?.record ?? null,
    advance: (ms: number) => (clock += ms),
    now: () => clock,
    takeContinued: () => {
      const c = continued;
      continued = undefined;
      return c;
    },
    operation: (sessionId: string, op: LifecycleOperation) =>
      run(sessionOperationOrchestrator()(context({ sessionId, op }))),
    supervise: (t: SupervisorTimeouts, input: { sessionId: string; startedAt?: number }) =>
      run(sessionSupervisorOrchestrator(t)(context(input))),
  };
}

const timeouts: SupervisorTimeouts = {
  heartbeatTimeoutMs: 2000,
  attachTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  endingTimeoutMs: 30_000,
  missingGraceMs: 5000,
};
const requested = (at: number): LifecycleOperation => ({
  type: 'requested',
  agentId: 'support',
  userId: 'u1',
  transport: 'webrtc',
  at,
});

describe('Durable lifecycle: session entity', () => {
  it('applies valid operations, rejects invalid ones without touching state, and validates input', () => {
    const opts = { sessionId: 's', maxReattachAttempts: 1 };
    let state: SessionEntityState = { record: null };
    const missing = sessionEntityOperation(state, 'apply', { type: 'callRegistered', callId: 'c', at: 1 }, opts);
    expect(missing).toMatchObject({
      changed: false,
      result: { rejected: expect.stringMatching(/no such session/), missing: true },
    });
    const created = sessionEntityOperation(state, 'apply', requested(1), opts);
    expect(created.changed).toBe(true);
    state = created.state;
    const invalid = sessionEntityOperation(state, 'apply', { type: 'attached', workerId: 'w', at: 2 }, opts);
    expect(invalid).toMatchObject({
      changed: false,
      state,
      result: { rejected: expect.stringMatching(/^attached: not valid in requested/) },
    });
    expect(sessionEntityOperation(state, 'apply', { type: 'teleport' }, opts).result).toMatchObject({
      rejected: expect.stringMatching(/invalid operation/),
    });
    expect(sessionEntityOperation(state, 'get', undefined, opts).result).toMatchObject({ state: 'requested' });
  });
});

describe('Durable lifecycle: the entity inside the durable-functions entity runtime', () => {
  // The library's own test helper wraps a handler in its real Entity runtime (batching, JSON state, results).
  const { createEntityFunction } = createRequire(import.meta.url)('durable-functions/lib/src/util/testingUtils.js') as {
    createEntityFunction: (fn: unknown) => (
      trigger: unknown,
      ctx: unknown,
    ) => Promise<{
      entityExists: boolean;
      entityState?: string;
      results: { isError: boolean; result?: string }[];
      signals: { target: { name: string; key: string }; name: string; input: string }[];
    }>;
  };
  const run = createEntityFunction(sessionEntity({ maxReattachAttempts: 1 }));
  const op = (name: string, input?: unknown) => ({
    name,
    signal: input !== undefined && name === 'apply',
    input: input === undefined ? '' : JSON.stringify(input),
  });

  it('applies a batch of operations in order, persists the record as JSON state, and returns each result', async () => {
    const trigger = {
      self: new df.EntityId('session', 'sess-1'),
      exists: false,
      state: undefined,
      batch: [
        op('apply', requested(1)),
        op('apply', { type: 'callRegistered', callId: 'rtc_1', at: 2 }),
        op('apply', { type: 'heartbeat', workerId: 'w1', at: 3 }), // not live yet: rejected, state unchanged
        op('apply', { type: 'attached', workerId: 'w1', at: 4 }),
        op('get'),
      ],
    };
    const out = await run(trigger, new df.DummyEntityContext('session', 'inv-1', () => {}));
    const results = out.results.map((r) => JSON.parse(r.result!));
    expect(out.results.every((r) => !r.isError)).toBe(true);
    expect(results[0]).toMatchObject({ state: 'requested' });
    expect(results[1].effects.map((e: { type: string }) => e.type)).toEqual(['persist', 'emit', 'attach']);
    expect(results[2]).toMatchObject({ state: 'attaching', rejected: 'heartbeat: not valid in attaching' });
    expect(results[3]).toMatchObject({ state: 'live' });
    expect(results[4]).toMatchObject({
      sessionId: 'sess-1',
      state: 'live',
      workerId: 'w1',
      path: ['requested', 'attaching', 'live'],
    });
    const state = JSON.parse(out.entityState!) as SessionEntityState;
    expect(state.record).toEqual(results[4]);

    // The next batch starts from the persisted state.
    const next = await run(
      {
        ...trigger,
        exists: true,
        state: out.entityState,
        batch: [
          op('apply', { type: 'workerLost', workerId: 'w1', reason: 'missed', at: 9 }),
          op('apply', { type: 'workerLost', workerId: '', reason: 'attach failed', at: 10 }),
        ],
      },
      new df.DummyEntityContext('session', 'inv-2', () => {}),
    );
    const [lost, exhausted] = next.results.map((r) => JSON.parse(r.result!));
    expect(next.signals).toEqual([]);
    expect(lost.effects.map((e: { type: string }) => e.type)).toEqual(['persist', 'emit', 'reattach']);
    expect(exhausted).toMatchObject({ state: 'failed' });
    expect(exhausted.effects).toContainEqual({ type: 'hangup', callId: 'rtc_1' });
  });
});

describe('Durable lifecycle: telling a stray worker to let go', () => {
  const { createEntityFunction } = createRequire(import.meta.url)('durable-functions/lib/src/util/testingUtils.js') as {
    createEntityFunction: (fn: unknown) => (
      trigger: unknown,
      ctx: unknown,
    ) => Promise<{
      entityState?: string;
      signals: { target: { name: string; key: string }; name: string; input: string }[];
    }>;
  };
  const run = createEntityFunction(sessionEntity({ maxReattachAttempts: 1 }));
  const apply = (input: unknown) => ({ name: 'apply', signal: true, input: JSON.stringify(input) });

  it("a heartbeat from a worker that does not hold the session leaves a drop in that worker's entity", async () => {
    const live = await run(
      {
        self: new df.EntityId('session', 'sess-9'),
        exists: false,
        state: undefined,
        batch: [
          apply(requested(1)),
          apply({ type: 'callRegistered', callId: 'c', at: 2 }),
          apply({ type: 'attached', workerId: 'w-new', at: 3 }),
        ],
      },
      new df.DummyEntityContext('session', 'i1', () => {}),
    );
    const out = await run(
      {
        self: new df.EntityId('session', 'sess-9'),
        exists: true,
        state: live.entityState,
        batch: [
          apply({ type: 'heartbeat', workerId: 'w-old', at: 4 }),
          apply({ type: 'heartbeat', workerId: 'w-new', at: 4 }),
        ],
      },
      new df.DummyEntityContext('session', 'i2', () => {}),
    );
    expect(out.signals.map((sig) => [sig.target.name, sig.target.key, sig.name, JSON.parse(sig.input)])).toEqual([
      ['worker', 'w-old', 'drop', 'sess-9'],
    ]);
  });

  it('the worker entity collects drops (deduplicated, bounded) until the worker acknowledges them', () => {
    let st = { drop: [] as string[] };
    st = workerEntityOperation(st, 'drop', 's1');
    st = workerEntityOperation(st, 'drop', 's1');
    st = workerEntityOperation(st, 'drop', 's2');
    expect(st.drop).toEqual(['s1', 's2']);
    st = workerEntityOperation(st, 'ack', ['s1']);
    expect(st.drop).toEqual(['s2']);
    for (let i = 0; i < 1100; i++) st = workerEntityOperation(st, 'drop', `x${i}`);
    expect(st.drop).toHaveLength(1000);
  });
});

describe('Durable lifecycle: orchestrations', () => {
  it('sessionOperation runs the attach effect and applies what it produced (WebRTC → live)', () => {
    const h = host({ activities: { [ACTIVITIES.attach]: () => ({ type: 'attached', workerId: 'w1', at: h.now() }) } });
    h.operation('s1', requested(h.now()));
    const log = h.operation('s1', { type: 'callRegistered', callId: 'rtc_1', at: h.now() });
    expect(log).toEqual(['callRegistered: → attaching', 'attached: → live']);
    expect(h.record('s1')).toMatchObject({ state: 'live', workerId: 'w1', callId: 'rtc_1' });
    expect(h.calls.map((c) => c.name)).toEqual([ACTIVITIES.emit, ACTIVITIES.emit, ACTIVITIES.attach, ACTIVITIES.emit]);
    expect(h.calls[2]!.input).toMatchObject({ sessionId: 's1', callId: 'rtc_1', attempt: 0 });
  });

  it('an operation that overtakes `requested` waits for it on a durable timer instead of being lost', () => {
    // The SIP webhook signals requested and accepted back to back; their orchestrations may run in either order.
    const h = host({
      activities: { [ACTIVITIES.attach]: () => ({ type: 'attached', workerId: 'w1', at: h.now() }) },
      onTimer: () => {
        if (!h.record('s2'))
          h.operation('s2', {
            type: 'requested',
            agentId: 'support',
            userId: 'sip:+1555',
            transport: 'sip',
            at: h.now(),
          });
      },
    });
    const t0 = h.now();
    const log = h.operation('s2', { type: 'accepted', callId: 'rtc_sip', at: t0 });
    expect(log).toEqual(['accepted: → attaching', 'attached: → live']);
    expect(h.now() - t0).toBe(1000); // one retry, a second later
    expect(h.record('s2')).toMatchObject({ state: 'live', path: ['requested', 'attaching', 'live'] });
  });

  it('gives up on an operation for a session that never appears', () => {
    const h = host();
    const t0 = h.now();
    expect(h.operation('s2b', { type: 'callRegistered', callId: 'c', at: t0 })).toEqual([
      expect.stringMatching(/no such session/),
    ]);
    expect(h.now() - t0).toBe(5000);
  });

  it('the supervisor re-attaches a session whose heartbeats stopped, on another worker', () => {
    let n = 1;
    const h = host({
      activities: { [ACTIVITIES.attach]: () => ({ type: 'attached', workerId: `w${++n}`, at: h.now() }) },
    });
    h.operation('s3', requested(h.now()));
    h.operation('s3', { type: 'callRegistered', callId: 'rtc_3', at: h.now() });
    expect(h.record('s3')).toMatchObject({ state: 'live', workerId: 'w2' });

    // Within the timeout: the supervisor sleeps until the deadline and continues as new.
    expect(h.supervise(timeouts, { sessionId: 's3' })).toBe('continued');
    expect(h.now()).toBe((h.record('s3') as LifecycleRecord).lastHeartbeatAt! + 2000);
    const input = h.takeContinued() as { sessionId: string; startedAt: number };
    // Past the deadline with no heartbeat: workerLost → reattach (attempt 1, avoiding w2) → live on w3.
    h.supervise(timeouts, input);
    const rec = h.record('s3') as LifecycleRecord;
    expect(rec).toMatchObject({ state: 'live', workerId: 'w3', reattachAttempts: 1, lostWorkers: ['w2'] });
    expect(h.calls.filter((c) => c.name === ACTIVITIES.attach).at(-1)!.input).toMatchObject({
      attempt: 1,
      avoidWorkers: ['w2'],
    });
  });

  it('when re-attaching keeps failing the session fails cleanly and the call is hung up', () => {
    const h = host({
      maxReattachAttempts: 2,
      activities: {
        [ACTIVITIES.attach]: (req) =>
          (req as { attempt: number }).attempt === 0
            ? { type: 'attached', workerId: 'w1', at: h.now() }
            : { type: 'workerLost', workerId: '', reason: 'attach failed: no replica', at: h.now() },
      },
    });
    h.operation('s4', requested(h.now()));
    h.operation('s4', { type: 'callRegistered', callId: 'rtc_4', at: h.now() });
    h.advance(5000);
    h.supervise(timeouts, { sessionId: 's4' });
    expect(h.record('s4')).toMatchObject({ state: 'failed', reason: expect.stringMatching(/exhausted/) });
    expect(h.calls.filter((c) => c.name === ACTIVITIES.attach)).toHaveLength(3); // first attach + 2 re-attaches
    expect(h.calls.filter((c) => c.name === ACTIVITIES.hangup).map((c) => c.input)).toEqual(['rtc_4']);
    // A failed session's supervisor stops.
    h.takeContinued();
    expect(h.supervise(timeouts, { sessionId: 's4' })).toBe('stopped: failed');
    expect(h.takeContinued()).toBeUndefined();
  });

  it('ending completes: hang up, detach, then ended', () => {
    const h = host({ activities: { [ACTIVITIES.attach]: () => ({ type: 'attached', workerId: 'w1', at: h.now() }) } });
    h.operation('s5', requested(h.now()));
    h.operation('s5', { type: 'callRegistered', callId: 'rtc_5', at: h.now() });
    const log = h.operation('s5', { type: 'ended', reason: 'user hung up', at: h.now() });
    expect(log).toEqual(['ended: → ending', 'ended: → ended']);
    expect(
      h.calls.filter((c) => c.name === ACTIVITIES.hangup || c.name === ACTIVITIES.detach).map((c) => c.name),
    ).toEqual([ACTIVITIES.hangup, ACTIVITIES.detach]);
    expect(h.record('s5')).toMatchObject({
      state: 'ended',
      path: ['requested', 'attaching', 'live', 'ending', 'ended'],
    });
  });
});
