import type { SessionEvent } from '../events/types';
import type { LifecycleOperation, LifecycleState, SessionContext, Transport } from './operations';

/**
 * The session lifecycle as a pure function: (record, operation) → (record, effects). No I/O, no clock, no
 * framework: the Durable entity (Azure) and the local lifecycle (local runner) both apply exactly this.
 *
 *   requested ──callRegistered──▶ attaching (WebRTC / WebSocket)        ──attached──▶ live
 *   requested ──callRegistered──▶ accepting ──accepted──▶ attaching (SIP)
 *   attaching|live ──workerLost──▶ attaching (re-attach, bounded) | failed (hang up)
 *   any active ──ended──▶ ending (hang up, detach) ──ended──▶ ended;   any active ──failed──▶ failed
 *   ended ──requested──▶ requested (a browser session resumed with a new call; never SIP, never failed)
 */

export interface LifecycleRecord {
  sessionId: string;
  state: LifecycleState;
  agentId: string;
  userId: string;
  transport: Transport;
  /** From `requested`: handed to the worker with each attach. */
  context?: SessionContext;
  callId?: string;
  /** The worker currently holding the sideband socket (set while live). */
  workerId?: string;
  /** Workers this session lost; their late `attached` / `heartbeat` / `workerLost` are stale and rejected. */
  lostWorkers: string[];
  /** Re-attaches so far, over the whole session: a session that keeps killing workers must stop. */
  reattachAttempts: number;
  lastHeartbeatAt?: number;
  /** When the current state was entered (unix ms): the attach watchdog measures from it. */
  stateSince: number;
  createdAt: number;
  updatedAt: number;
  reason?: string;
  /** Applied operations that changed the record; hosts use it for ETag-free ordering checks and ids. */
  version: number;
  /** Every state the session went through, in order (bounded: re-attaches are bounded). For diagnostics. */
  path: LifecycleState[];
  /** How often an ended browser session was resumed (`requested` again within the resume window). */
  resumes?: number;
}

/** What the worker's POST /attach receives (also the attach effect's payload). */
export interface AttachRequest {
  sessionId: string;
  callId: string;
  agentId: string;
  userId: string;
  transport: Transport;
  /** 0 for the first attach, n for the n-th re-attach. */
  attempt: number;
  /** Workers that lost this session; a balancer should prefer others. */
  avoidWorkers: string[];
  context?: SessionContext;
}

export type StateEvent = Extract<SessionEvent, { type: 'state' }>;

export type LifecycleEffect =
  | { type: 'persist' }
  | { type: 'emit'; event: StateEvent }
  | { type: 'attach'; request: AttachRequest }
  | { type: 'reattach'; request: AttachRequest }
  | { type: 'hangup'; callId: string }
  | { type: 'detach'; sessionId: string; workerId: string }
  /** Apply `ended` once the effects listed before this one have run (ending → ended). */
  | { type: 'complete'; reason: string };

export interface ReduceResult {
  /** The record after the operation; on rejection, the very same object that came in. */
  record: LifecycleRecord | null;
  effects: LifecycleEffect[];
  rejected?: { reason: string };
}

export interface ReducerOptions {
  sessionId: string;
  maxReattachAttempts: number;
}

export const TERMINAL_STATES: readonly LifecycleState[] = ['ended', 'failed'];
export const ACTIVE_STATES: readonly LifecycleState[] = ['requested', 'accepting', 'attaching', 'live', 'ending'];
export const isTerminal = (s: LifecycleState) => TERMINAL_STATES.includes(s);

const reject = (record: LifecycleRecord | null, reason: string): ReduceResult => ({
  record,
  effects: [],
  rejected: { reason },
});

export function reduce(current: LifecycleRecord | null, op: LifecycleOperation, opts: ReducerOptions): ReduceResult {
  if (!current) {
    if (op.type !== 'requested') return reject(null, `${op.type}: no such session`);
    const rec: LifecycleRecord = {
      sessionId: opts.sessionId,
      state: 'requested',
      agentId: op.agentId,
      userId: op.userId,
      transport: op.transport,
      ...(op.context ? { context: op.context } : {}),
      lostWorkers: [],
      reattachAttempts: 0,
      stateSince: op.at,
      createdAt: op.at,
      updatedAt: op.at,
      version: 1,
      path: ['requested'],
    };
    return { record: rec, effects: [{ type: 'persist' }, emit(rec)] };
  }
  if (
    op.type === 'requested' &&
    current.state === 'ended' &&
    op.transport !== 'sip' &&
    op.transport === current.transport
  ) {
    // Resume: a dropped browser session starts over with a new call (the HTTP side enforces the window and owner).
    const resumed = next_(current, 'requested', op.at, {
      callId: undefined,
      workerId: undefined,
      lostWorkers: [],
      reattachAttempts: 0,
      lastHeartbeatAt: undefined,
      reason: 'resumed',
      resumes: (current.resumes ?? 0) + 1,
      ...(op.context ? { context: op.context } : {}),
    });
    return withEffects(resumed, []);
  }
  if (isTerminal(current.state)) return reject(current, `${op.type}: session already ${current.state}`);
  const s = current;

  switch (op.type) {
    case 'requested':
      return reject(s, 'requested: session already exists');

    case 'callRegistered': {
      if (s.state !== 'requested') return reject(s, `callRegistered: not valid in ${s.state}`);
      if (s.transport === 'sip') return move(s, 'accepting', op.at, { callId: op.callId });
      const next = next_(s, 'attaching', op.at, { callId: op.callId });
      return withEffects(next, [{ type: 'attach', request: attachRequest(next) }]);
    }

    case 'accepted': {
      if (s.transport !== 'sip') return reject(s, 'accepted: only SIP calls are accepted');
      if (s.state === 'accepting') {
        if (s.callId !== op.callId) return reject(s, 'accepted: call id does not match the registered call');
      } else if (s.state !== 'requested') {
        return reject(s, `accepted: not valid in ${s.state}`);
      }
      // From `requested` too: signals are not guaranteed to arrive in order, and `accepted` carries the call id.
      const next = next_(s, 'attaching', op.at, { callId: op.callId });
      return withEffects(next, [{ type: 'attach', request: attachRequest(next) }]);
    }

    case 'attached': {
      if (s.state !== 'attaching') return reject(s, `attached: not valid in ${s.state}`);
      if (!op.workerId) return reject(s, 'attached: worker id is required');
      if (s.lostWorkers.includes(op.workerId)) return reject(s, `attached: worker ${op.workerId} was lost`);
      return move(s, 'live', op.at, { workerId: op.workerId, lastHeartbeatAt: op.at });
    }

    case 'heartbeat': {
      if (s.state !== 'live') return reject(s, `heartbeat: not valid in ${s.state}`);
      if (op.workerId !== s.workerId) return reject(s, `heartbeat: worker ${op.workerId} does not hold the session`);
      // Not persisted: a heartbeat only moves the watchdog's deadline, which the host keeps in memory.
      return { record: { ...s, lastHeartbeatAt: op.at }, effects: [] };
    }

    case 'workerLost': {
      if (s.state === 'live') {
        if (op.workerId !== s.workerId) return reject(s, `workerLost: worker ${op.workerId} does not hold the session`);
      } else if (s.state === 'attaching') {
        if (op.workerId && s.lostWorkers.includes(op.workerId))
          return reject(s, `workerLost: worker ${op.workerId} already lost`);
      } else {
        return reject(s, `workerLost: not valid in ${s.state}`);
      }
      const lostWorkers = op.workerId ? [...s.lostWorkers, op.workerId] : s.lostWorkers;
      const attempts = s.reattachAttempts + 1;
      if (attempts > opts.maxReattachAttempts) {
        const failed = next_(s, 'failed', op.at, {
          workerId: undefined,
          lostWorkers,
          reason: `worker lost (${op.reason}); re-attach attempts exhausted`,
        });
        return withEffects(failed, s.callId ? [{ type: 'hangup', callId: s.callId }] : []);
      }
      const next = next_(s, 'attaching', op.at, {
        workerId: undefined,
        lostWorkers,
        reattachAttempts: attempts,
        reason: `worker lost: ${op.reason}`,
      });
      return withEffects(next, [{ type: 'reattach', request: attachRequest(next) }]);
    }

    case 'ended': {
      const foreign = foreignReport(s, op.workerId);
      if (foreign) return reject(s, `ended: ${foreign}`);
      if (s.state === 'ending') return move(s, 'ended', op.at, { reason: s.reason ?? op.reason, workerId: undefined });
      if (s.state === 'requested' || !s.callId) return move(s, 'ended', op.at, { reason: op.reason });
      const next = next_(s, 'ending', op.at, { reason: op.reason });
      return withEffects(next, [...teardown(s), { type: 'complete', reason: op.reason }]);
    }

    case 'failed': {
      const foreign = foreignReport(s, op.workerId);
      if (foreign) return reject(s, `failed: ${foreign}`);
      if (op.foreignCall) {
        // Hanging up would end a stranger's call: let go of the call id and touch nothing on the service.
        const next = next_(s, 'failed', op.at, { reason: op.reason, workerId: undefined, callId: undefined });
        return withEffects(next, s.workerId ? [{ type: 'detach', sessionId: s.sessionId, workerId: s.workerId }] : []);
      }
      const next = next_(s, 'failed', op.at, { reason: op.reason, workerId: undefined });
      // In `ending` the hang-up was already asked for.
      return withEffects(next, s.state === 'ending' ? [] : teardown(s));
    }
  }
}

/**
 * Why a worker's report about this session is not its to make (undefined when it is): only the worker holding
 * the session may end or fail it — a stale or confused replica must not end a call another one serves.
 */
function foreignReport(s: LifecycleRecord, workerId: string | undefined): string | undefined {
  if (workerId === undefined) return undefined;
  if (s.lostWorkers.includes(workerId)) return `worker ${workerId} was lost`;
  if (s.state === 'attaching' && !s.workerId) return undefined;
  if (s.workerId !== workerId) return `worker ${workerId} does not hold the session`;
  return undefined;
}

function teardown(s: LifecycleRecord): LifecycleEffect[] {
  const fx: LifecycleEffect[] = [];
  if (s.callId) fx.push({ type: 'hangup', callId: s.callId });
  if (s.workerId) fx.push({ type: 'detach', sessionId: s.sessionId, workerId: s.workerId });
  return fx;
}

function next_(
  s: LifecycleRecord,
  state: LifecycleState,
  at: number,
  patch: Partial<LifecycleRecord>,
): LifecycleRecord {
  return {
    ...s,
    ...patch,
    state,
    stateSince: at,
    updatedAt: at,
    version: s.version + 1,
    path: [...(s.path ?? []), state],
  };
}

/** persist + emit come first: the record is durable before anything acts on it. */
function withEffects(next: LifecycleRecord, extra: LifecycleEffect[]): ReduceResult {
  return { record: next, effects: [{ type: 'persist' }, emit(next), ...extra] };
}

function move(s: LifecycleRecord, state: LifecycleState, at: number, patch: Partial<LifecycleRecord>): ReduceResult {
  return withEffects(next_(s, state, at, patch), []);
}

function emit(s: LifecycleRecord): LifecycleEffect {
  const event: StateEvent = {
    type: 'state',
    sessionId: s.sessionId,
    state: s.state,
    at: s.updatedAt,
    agentId: s.agentId,
    transport: s.transport,
  };
  if (s.reason) event.reason = s.reason;
  return { type: 'emit', event };
}

export function attachRequest(s: LifecycleRecord): AttachRequest {
  return {
    sessionId: s.sessionId,
    callId: s.callId ?? '',
    agentId: s.agentId,
    userId: s.userId,
    transport: s.transport,
    attempt: s.reattachAttempts,
    avoidWorkers: [...s.lostWorkers],
    ...(s.context ? { context: s.context } : {}),
  };
}

/**
 * When the watchdog must act if nothing changes: `attaching` must reach `live`, `live` must keep
 * heartbeating. Undefined for states nobody needs to watch.
 */
export function watchDeadline(
  s: LifecycleRecord | null,
  timeoutMs: number,
  attachTimeoutMs = timeoutMs,
): number | undefined {
  if (!s) return undefined;
  if (s.state === 'live') return (s.lastHeartbeatAt ?? s.stateSince) + timeoutMs;
  if (s.state === 'attaching') return s.stateSince + attachTimeoutMs;
  return undefined;
}

/** The operation the watchdog applies when `now` is past the deadline; undefined when all is well. */
export function overdueOperation(
  s: LifecycleRecord | null,
  now: number,
  timeoutMs: number,
  attachTimeoutMs = timeoutMs,
): LifecycleOperation | undefined {
  const deadline = watchDeadline(s, timeoutMs, attachTimeoutMs);
  if (!s || deadline === undefined || now < deadline) return undefined;
  if (s.state === 'live') {
    return { type: 'workerLost', workerId: s.workerId ?? '', reason: 'heartbeat missed', at: now };
  }
  return { type: 'workerLost', workerId: '', reason: 'attach did not complete in time', at: now };
}

/** Invariants every reachable record satisfies (used by the property test and as a host-side assertion). */
export function invariantViolations(s: LifecycleRecord, maxReattachAttempts: number): string[] {
  const v: string[] = [];
  if (![...ACTIVE_STATES, ...TERMINAL_STATES].includes(s.state)) v.push(`unknown state ${s.state}`);
  if (s.state === 'accepting' && (s.transport !== 'sip' || !s.callId)) v.push('accepting needs a SIP call id');
  if (s.state === 'attaching' && !s.callId) v.push('attaching needs a call id');
  if (s.state === 'live' && (!s.callId || !s.workerId)) v.push('live needs a call id and a worker');
  if (s.state !== 'live' && s.state !== 'ending' && s.workerId) v.push(`${s.state} must not hold a worker`);
  if (s.workerId && s.lostWorkers.includes(s.workerId)) v.push('holding a worker that was lost');
  if (s.reattachAttempts > maxReattachAttempts) v.push('re-attach attempts above the bound');
  if (s.path[s.path.length - 1] !== s.state) v.push('path does not end in the current state');
  return v;
}

/**
 * Whether a worker heartbeating this session should let it go: the session is gone, over, or held by (or
 * being attached to) someone else. A worker attaching right now (no holder yet, not lost) keeps it.
 */
export function workerShouldDrop(s: LifecycleRecord | null, workerId: string): boolean {
  if (!s || isTerminal(s.state)) return true;
  if (s.lostWorkers.includes(workerId)) return true;
  return s.workerId !== undefined && s.workerId !== workerId;
}
