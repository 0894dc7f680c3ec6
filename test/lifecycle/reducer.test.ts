import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LifecycleOperation, LifecycleState, Transport } from '../../shared/lifecycle/operations';
import {
  ACTIVE_STATES,
  TERMINAL_STATES,
  invariantViolations,
  overdueOperation,
  reduce,
  watchDeadline,
  type LifecycleEffect,
  type LifecycleRecord,
} from '../../shared/lifecycle/reducer';

const opts = { sessionId: 's1', maxReattachAttempts: 2 };
const OP_TYPES: LifecycleOperation['type'][] = [
  'requested',
  'callRegistered',
  'accepted',
  'attached',
  'heartbeat',
  'workerLost',
  'ended',
  'failed',
];

function run(ops: LifecycleOperation[], start: LifecycleRecord | null = null) {
  let s = start;
  const all: LifecycleEffect[][] = [];
  for (const op of ops) {
    const r = reduce(s, op, opts);
    if (r.rejected) throw new Error(`unexpected rejection: ${r.rejected.reason}`);
    s = r.record;
    all.push(r.effects);
  }
  return { state: s!, effects: all };
}

/** A record in each reachable state, for each transport, reached through the reducer itself. */
function recordIn(state: LifecycleState, transport: Transport): LifecycleRecord {
  const req: LifecycleOperation = { type: 'requested', agentId: 'a', userId: 'u', transport, at: 1 };
  const reg: LifecycleOperation = { type: 'callRegistered', callId: 'c1', at: 2 };
  const toAttaching = transport === 'sip' ? [req, reg, { type: 'accepted', callId: 'c1', at: 3 } as const] : [req, reg];
  const toLive = [...toAttaching, { type: 'attached', workerId: 'w1', at: 4 } as const];
  const paths: Record<LifecycleState, LifecycleOperation[]> = {
    requested: [req],
    accepting: [req, reg],
    attaching: toAttaching,
    live: toLive,
    ending: [...toLive, { type: 'ended', reason: 'user', at: 5 }],
    ended: [...toLive, { type: 'ended', reason: 'user', at: 5 }, { type: 'ended', reason: 'hung up', at: 6 }],
    failed: [...toLive, { type: 'failed', reason: 'boom', at: 5 }],
  };
  return run(paths[state]).state;
}

const sample = (
  type: LifecycleOperation['type'],
  workerId = 'w1',
  transport: Transport = 'webrtc',
): LifecycleOperation => {
  switch (type) {
    case 'requested':
      return { type, agentId: 'a', userId: 'u', transport, at: 10 };
    case 'callRegistered':
      return { type, callId: 'c1', at: 10 };
    case 'accepted':
      return { type, callId: 'c1', at: 10 };
    case 'attached':
      return { type, workerId, at: 10 };
    case 'heartbeat':
      return { type, workerId, at: 10 };
    case 'workerLost':
      return { type, workerId, reason: 'gone', at: 10 };
    case 'ended':
      return { type, reason: 'bye', at: 10 };
    case 'failed':
      return { type, reason: 'boom', at: 10 };
  }
};

/** Valid (state, op) pairs and the state they lead to; every other pair must be rejected. */
const VALID: Record<
  Transport,
  Partial<Record<LifecycleState, Partial<Record<LifecycleOperation['type'], LifecycleState>>>>
> = {
  webrtc: {
    requested: { callRegistered: 'attaching', ended: 'ended', failed: 'failed' },
    attaching: { attached: 'live', workerLost: 'attaching', ended: 'ending', failed: 'failed' },
    live: { heartbeat: 'live', workerLost: 'attaching', ended: 'ending', failed: 'failed' },
    ending: { ended: 'ended', failed: 'failed' },
    ended: { requested: 'requested' },
  },
  sip: {
    requested: { callRegistered: 'accepting', accepted: 'attaching', ended: 'ended', failed: 'failed' },
    accepting: { accepted: 'attaching', ended: 'ending', failed: 'failed' },
    attaching: { attached: 'live', workerLost: 'attaching', ended: 'ending', failed: 'failed' },
    live: { heartbeat: 'live', workerLost: 'attaching', ended: 'ending', failed: 'failed' },
    ending: { ended: 'ended', failed: 'failed' },
  },
  websocket: {},
};
VALID.websocket = VALID.webrtc;

describe('lifecycle reducer: the full transition table', () => {
  for (const transport of ['webrtc', 'sip', 'websocket'] as Transport[]) {
    for (const state of [...ACTIVE_STATES, ...TERMINAL_STATES]) {
      if (state === 'accepting' && transport !== 'sip') continue; // unreachable for non-SIP
      for (const type of OP_TYPES) {
        const expected = VALID[transport][state]?.[type];
        it(`${transport}: ${state} + ${type} → ${expected ?? 'rejected'}`, () => {
          const before = recordIn(state, transport);
          const snapshot = structuredClone(before);
          const r = reduce(before, sample(type, 'w1', transport), opts);
          if (expected) {
            expect(r.rejected).toBeUndefined();
            expect(r.record?.state).toBe(expected);
            expect(invariantViolations(r.record!, opts.maxReattachAttempts)).toEqual([]);
          } else {
            expect(r.rejected?.reason).toMatch(new RegExp(`^${type}:`));
            expect(r.record).toBe(before); // the same object: nothing changed
            expect(r.effects).toEqual([]);
          }
          expect(before).toEqual(snapshot); // never mutates its input
        });
      }
    }
  }

  it('rejects every operation but requested on a missing session', () => {
    for (const type of OP_TYPES.filter((t) => t !== 'requested')) {
      const r = reduce(null, sample(type), opts);
      expect(r).toEqual({ record: null, effects: [], rejected: { reason: `${type}: no such session` } });
    }
  });
});

describe('lifecycle reducer: effects', () => {
  it('WebRTC: requested → attaching asks for an attach; attached → live persists and emits', () => {
    const { state, effects } = run([
      { type: 'requested', agentId: 'support', userId: 'u1', transport: 'webrtc', at: 1 },
      { type: 'callRegistered', callId: 'rtc_1', at: 2 },
      { type: 'attached', workerId: 'w1', at: 3 },
    ]);
    expect(effects[0]).toEqual([
      { type: 'persist' },
      {
        type: 'emit',
        event: { type: 'state', sessionId: 's1', state: 'requested', at: 1, agentId: 'support', transport: 'webrtc' },
      },
    ]);
    expect(effects[1]).toContainEqual({
      type: 'attach',
      request: {
        sessionId: 's1',
        callId: 'rtc_1',
        agentId: 'support',
        userId: 'u1',
        transport: 'webrtc',
        attempt: 0,
        avoidWorkers: [],
      },
    });
    expect(effects[2]).toEqual([
      { type: 'persist' },
      {
        type: 'emit',
        event: { type: 'state', sessionId: 's1', state: 'live', at: 3, agentId: 'support', transport: 'webrtc' },
      },
    ]);
    expect(state).toMatchObject({
      state: 'live',
      workerId: 'w1',
      lastHeartbeatAt: 3,
      version: 3,
      path: ['requested', 'attaching', 'live'],
    });
  });

  it('SIP: the attach waits for accepted, and accepted must name the registered call', () => {
    const accepting = recordIn('accepting', 'sip');
    expect(reduce(accepting, { type: 'accepted', callId: 'other', at: 5 }, opts).rejected?.reason).toMatch(
      /does not match/,
    );
    const r = reduce(accepting, { type: 'accepted', callId: 'c1', at: 5 }, opts);
    expect(r.effects.map((e) => e.type)).toEqual(['persist', 'emit', 'attach']);
  });

  it('a heartbeat is applied in memory only (no persist) and only from the worker holding the session', () => {
    const live = recordIn('live', 'webrtc');
    const r = reduce(live, { type: 'heartbeat', workerId: 'w1', at: 99 }, opts);
    expect(r.effects).toEqual([]);
    expect(r.record).toMatchObject({ lastHeartbeatAt: 99, version: live.version });
    expect(reduce(live, { type: 'heartbeat', workerId: 'w2', at: 99 }, opts).rejected?.reason).toMatch(/does not hold/);
  });

  it('a lost worker is re-attached elsewhere, at most maxReattachAttempts times, then the call is hung up', () => {
    let s = recordIn('live', 'webrtc');
    for (let i = 1; i <= opts.maxReattachAttempts; i++) {
      const lost = reduce(s, { type: 'workerLost', workerId: `w${i}`, reason: 'heartbeat missed', at: 10 * i }, opts);
      expect(lost.record).toMatchObject({ state: 'attaching', reattachAttempts: i, workerId: undefined });
      const re = lost.effects.find((e) => e.type === 'reattach');
      expect(re).toMatchObject({
        request: { attempt: i, avoidWorkers: Array.from({ length: i }, (_, k) => `w${k + 1}`) },
      });
      s = reduce(lost.record, { type: 'attached', workerId: `w${i + 1}`, at: 10 * i + 1 }, opts).record!;
      expect(s.state).toBe('live');
    }
    const last = reduce(
      s,
      { type: 'workerLost', workerId: `w${opts.maxReattachAttempts + 1}`, reason: 'heartbeat missed', at: 100 },
      opts,
    );
    expect(last.record).toMatchObject({ state: 'failed', reason: expect.stringMatching(/exhausted/) });
    expect(last.effects).toContainEqual({ type: 'hangup', callId: 'c1' });
  });

  it('stale reports from a lost worker are rejected', () => {
    const live = recordIn('live', 'webrtc');
    const attaching = reduce(live, { type: 'workerLost', workerId: 'w1', reason: 'x', at: 20 }, opts).record!;
    expect(reduce(attaching, { type: 'attached', workerId: 'w1', at: 21 }, opts).rejected?.reason).toMatch(/was lost/);
    expect(
      reduce(attaching, { type: 'workerLost', workerId: 'w1', reason: 'again', at: 21 }, opts).rejected?.reason,
    ).toMatch(/already lost/);
    // An attach that failed before any worker took it (no worker id) counts as another attempt.
    expect(
      reduce(attaching, { type: 'workerLost', workerId: '', reason: 'attach failed', at: 21 }, opts).record
        ?.reattachAttempts,
    ).toBe(2);
  });

  it('ended hangs up and detaches, then completes; failed tears down without a second ending', () => {
    const live = recordIn('live', 'sip');
    const ending = reduce(live, { type: 'ended', reason: 'user hung up', at: 30 }, opts);
    expect(ending.effects).toEqual([
      { type: 'persist' },
      {
        type: 'emit',
        event: {
          type: 'state',
          sessionId: 's1',
          state: 'ending',
          at: 30,
          reason: 'user hung up',
          agentId: 'a',
          transport: 'sip',
        },
      },
      { type: 'hangup', callId: 'c1' },
      { type: 'detach', sessionId: 's1', workerId: 'w1' },
      { type: 'complete', reason: 'user hung up' },
    ]);
    const ended = reduce(ending.record, { type: 'ended', reason: 'hung up', at: 31 }, opts);
    expect(ended.record).toMatchObject({ state: 'ended', reason: 'user hung up', workerId: undefined });
    const failed = reduce(live, { type: 'failed', reason: 'boom', at: 30 }, opts);
    expect(failed.effects.map((e) => e.type)).toEqual(['persist', 'emit', 'hangup', 'detach']);
    expect(reduce(ending.record, { type: 'failed', reason: 'x', at: 31 }, opts).effects.map((e) => e.type)).toEqual([
      'persist',
      'emit',
    ]);
  });

  it('an ended browser session can be resumed: requested again, with a clean slate for the new call', () => {
    const ended = recordIn('ended', 'webrtc');
    const r = reduce(ended, { type: 'requested', agentId: 'a', userId: 'u', transport: 'webrtc', at: 50 }, opts);
    expect(r.record).toMatchObject({
      state: 'requested',
      callId: undefined,
      workerId: undefined,
      reattachAttempts: 0,
      resumes: 1,
    });
    expect(r.record?.path.slice(-2)).toEqual(['ended', 'requested']);
    expect(
      reduce(
        recordIn('failed', 'webrtc'),
        { type: 'requested', agentId: 'a', userId: 'u', transport: 'webrtc', at: 50 },
        opts,
      ).rejected,
    ).toBeTruthy();
    expect(
      reduce(recordIn('ended', 'sip'), { type: 'requested', agentId: 'a', userId: 'u', transport: 'sip', at: 50 }, opts)
        .rejected,
    ).toBeTruthy();
  });

  it('a session that never got a call ends without hanging anything up', () => {
    const r = reduce(recordIn('requested', 'webrtc'), { type: 'ended', reason: 'expired', at: 9 }, opts);
    expect(r.record?.state).toBe('ended');
    expect(r.effects.map((e) => e.type)).toEqual(['persist', 'emit']);
  });
});

describe('lifecycle reducer: watchdog', () => {
  it('watches attaching from when it began and live from the last heartbeat', () => {
    const attaching = recordIn('attaching', 'webrtc');
    expect(watchDeadline(attaching, 1000)).toBe(attaching.stateSince + 1000);
    expect(overdueOperation(attaching, attaching.stateSince + 999, 1000)).toBeUndefined();
    expect(overdueOperation(attaching, attaching.stateSince + 1000, 1000)).toMatchObject({
      type: 'workerLost',
      workerId: '',
    });
    const live = reduce(recordIn('live', 'webrtc'), { type: 'heartbeat', workerId: 'w1', at: 500 }, opts).record!;
    expect(watchDeadline(live, 1000)).toBe(1500);
    expect(overdueOperation(live, 1500, 1000)).toMatchObject({
      type: 'workerLost',
      workerId: 'w1',
      reason: 'heartbeat missed',
    });
    for (const st of ['requested', 'ending', 'ended', 'failed'] as const)
      expect(watchDeadline(recordIn(st, 'webrtc'), 1000)).toBeUndefined();
  });
});

describe('lifecycle reducer: properties', () => {
  const workerIds = fc.constantFrom('w1', 'w2', 'w3', '');
  const opArb: fc.Arbitrary<LifecycleOperation> = fc.oneof(
    fc.record({
      type: fc.constant('requested' as const),
      agentId: fc.constant('a'),
      userId: fc.constant('u'),
      transport: fc.constantFrom<Transport>('webrtc', 'sip', 'websocket'),
      at: fc.nat(),
    }),
    fc.record({ type: fc.constant('callRegistered' as const), callId: fc.constantFrom('c1', 'c2'), at: fc.nat() }),
    fc.record({ type: fc.constant('accepted' as const), callId: fc.constantFrom('c1', 'c2'), at: fc.nat() }),
    fc.record({ type: fc.constant('attached' as const), workerId: workerIds, at: fc.nat() }),
    fc.record({ type: fc.constant('heartbeat' as const), workerId: workerIds, at: fc.nat() }),
    fc.record({
      type: fc.constant('workerLost' as const),
      workerId: workerIds,
      reason: fc.constant('x'),
      at: fc.nat(),
    }),
    fc.record({ type: fc.constant('ended' as const), reason: fc.constant('x'), at: fc.nat() }),
    fc.record({ type: fc.constant('failed' as const), reason: fc.constant('x'), at: fc.nat() }),
  );

  it('no operation sequence reaches an invalid record; rejections change nothing; terminal states absorb', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        let s: LifecycleRecord | null = null;
        for (const op of ops) {
          const r = reduce(s, op, opts);
          if (r.rejected) {
            expect(r.record).toBe(s);
            expect(r.effects).toEqual([]);
            continue;
          }
          const next = r.record!;
          expect(invariantViolations(next, opts.maxReattachAttempts)).toEqual([]);
          if (s && TERMINAL_STATES.includes(s.state) && !(op.type === 'requested' && s.state === 'ended'))
            throw new Error('terminal state changed');
          // Effects are consistent with the state they were produced in.
          for (const e of r.effects) {
            if (e.type === 'attach' || e.type === 'reattach') {
              expect(next.state).toBe('attaching');
              expect(e.request.callId).toBe(next.callId);
            }
            if (e.type === 'hangup') expect(['ending', 'failed']).toContain(next.state);
          }
          if (next.state !== s?.state || !s) expect(r.effects[0]).toEqual({ type: 'persist' });
          s = next;
        }
      }),
      { numRuns: 2000 },
    );
  });
});
