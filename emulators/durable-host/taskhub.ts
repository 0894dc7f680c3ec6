import type { Registration } from './functions-core';
import { counters, type HubCounters } from './costs';
import {
  type Json,
  type HistoryEvent,
  H,
  A,
  V3,
  type Message,
  type Orchestration,
  type EntityInstance,
  type ActivityItem,
  type Faults,
  type HubOptions,
  rng,
  triggerOf,
  wire,
  flatten,
} from './taskhub-model';

export { H, type EntityInstance, type Faults, type HubOptions, type Json, type Orchestration } from './taskhub-model';

/**
 * A task hub in memory, run the way the Durable extension runs one, for the functions an app registered:
 * orchestrations replayed episode by episode with the extension's current replay schema (V3: `Task.all` /
 * `Task.any` arrive as compound actions, flattened into sequence numbers), a FIFO queue per instance, entity
 * operations in batches, activities as separate work items, durable timers on a virtual clock. A seeded
 * random source decides which runnable work item goes next, how many queued messages one episode or batch
 * takes, and (when asked) which activities fail or run twice and which episodes are redelivered (lost before
 * their checkpoint and run again). The client HTTP API the durable-functions library calls is served by
 * `client-api.ts`.
 */
export class TaskHub {
  clock: number;
  readonly orchestrations = new Map<string, Orchestration>();
  readonly entities = new Map<string, EntityInstance>();
  readonly activities: ActivityItem[] = [];
  readonly counters: HubCounters = counters();
  /** Work that happens outside the hub at a virtual time (a worker's heartbeat tick, a caller hanging up). */
  private readonly external: { at: number; run: () => Promise<void> | void }[] = [];
  private random: () => number;
  private readonly byName = new Map<string, Registration>();
  private guid = 0;

  constructor(private opts: HubOptions) {
    this.clock = opts.start ?? Date.UTC(2026, 11, 1, 12);
    this.random = rng(opts.seed ?? 1);
    for (const r of opts.registrations) this.byName.set(r.name.toLowerCase(), r);
  }

  private reg(name: string, trigger: string): Registration {
    const r = this.byName.get(name.toLowerCase());
    if (!r || triggerOf(r) !== trigger) throw new Error(`no ${trigger} function named ${name}`);
    return r;
  }

  /** A new random sequence and fault mix (property tests reuse one hub across runs). */
  configure(o: { seed?: number; faults?: Faults }) {
    if (o.seed !== undefined) this.random = rng(o.seed);
    if (o.faults) this.opts.faults = o.faults;
  }

  at(time: number, run: () => Promise<void> | void) {
    this.external.push({ at: time, run });
  }

  /** Client `startNew`: false when an instance with that id is pending or running. */
  start(name: string, id: string, input: Json, parent?: Orchestration['parent']): boolean {
    this.reg(name, 'orchestrationTrigger');
    const existing = this.orchestrations.get(id);
    if (existing && (existing.status === 'Running' || existing.status === 'Pending')) return false;
    const o: Orchestration = {
      id,
      name,
      status: 'Pending',
      input,
      execution: (existing?.execution ?? 0) + 1,
      history: [],
      inbox: [],
      createdAt: this.clock,
      updatedAt: this.clock,
      parent,
    };
    this.orchestrations.set(id, o);
    this.send(o, { EventType: H.ExecutionStarted, Name: name, Input: JSON.stringify(input ?? null) }, o.execution);
    return true;
  }

  raise(id: string, name: string, data: Json): 'ok' | 'missing' | 'gone' {
    const o = this.orchestrations.get(id);
    if (!o) return 'missing';
    if (o.status !== 'Running' && o.status !== 'Pending') return 'gone';
    this.send(o, { EventType: H.EventRaised, Name: name, Input: JSON.stringify(data ?? null) }, o.execution);
    return 'ok';
  }

  entity(schedulerId: string): EntityInstance {
    let e = this.entities.get(schedulerId);
    if (!e) {
      const [, name, ...key] = schedulerId.split('@');
      e = { id: schedulerId, name: name!, key: key.join('@'), exists: false, inbox: [] };
      this.entities.set(schedulerId, e);
    }
    return e;
  }

  signal(schedulerId: string, op: string, input: string) {
    this.counters.messages++;
    this.entity(schedulerId).inbox.push({ id: `sig-${++this.guid}`, op, input, signal: true });
  }

  private send(o: Orchestration, event: Message['event'], execution: number, visibleAt = this.clock) {
    this.counters.messages++;
    o.inbox.push({ event: { ...event, Timestamp: new Date(visibleAt) }, execution, visibleAt });
  }

  /** Runs work items until nothing is runnable before `until` (virtual time), or `stop()` says so. */
  async run(until: number, stop?: () => boolean): Promise<void> {
    for (let guard = 0; guard < 5_000_000; guard++) {
      if (stop?.()) return;
      const units = this.runnable();
      if (units.length) {
        await units[Math.floor(this.random() * units.length)]!();
        continue;
      }
      const next = this.nextTime();
      if (next === undefined || next > until) {
        this.clock = Math.max(this.clock, until);
        return;
      }
      this.clock = Math.max(this.clock, next);
    }
    throw new Error('task hub did not settle');
  }

  private nextTime(): number | undefined {
    let t: number | undefined;
    for (const o of this.orchestrations.values())
      for (const m of o.inbox) if (t === undefined || m.visibleAt < t) t = m.visibleAt;
    for (const x of this.external) if (t === undefined || x.at < t) t = x.at;
    return t;
  }

  private runnable(): (() => Promise<void>)[] {
    const out: (() => Promise<void>)[] = [];
    for (const o of this.orchestrations.values())
      if (o.inbox.some((m) => m.visibleAt <= this.clock)) out.push(() => this.episode(o));
    for (const e of this.entities.values()) if (e.inbox.length) out.push(() => this.batch(e));
    this.activities.forEach((a) => out.push(() => this.activity(a)));
    const due = this.external.filter((x) => x.at <= this.clock);
    for (const x of due)
      out.push(async () => {
        this.external.splice(this.external.indexOf(x), 1);
        await x.run();
      });
    return out;
  }

  private takePrefix<T>(list: T[], accept: (t: T) => boolean): T[] {
    const ready = list.filter(accept);
    if (!ready.length) return [];
    const n = 1 + Math.floor(this.random() * ready.length);
    return ready.slice(0, n);
  }

  private async episode(o: Orchestration): Promise<void> {
    // FIFO per instance: the episode takes a prefix of the visible messages (how many varies).
    const visible = this.takePrefix(o.inbox, (m) => m.visibleAt <= this.clock);
    const batch = visible.filter((m) => m.execution === o.execution && !this.duplicate(o, m.event));
    const redeliver = this.random() < (this.opts.faults?.episodeRedelivery ?? 0);
    if (!batch.length) {
      for (const m of visible) o.inbox.splice(o.inbox.indexOf(m), 1);
      return;
    }
    const started = { EventType: H.OrchestratorStarted, EventId: -1, IsPlayed: false, Timestamp: new Date(this.clock) };
    const fresh = batch.map((m) => ({ ...m.event, EventId: -1, IsPlayed: false }) as HistoryEvent);
    const history = [...o.history.map((e) => ({ ...e, IsPlayed: true })), started, ...fresh];
    const reg = this.reg(o.name, 'orchestrationTrigger');
    const trigger = {
      history,
      input: o.input,
      instanceId: o.id,
      isReplaying: o.history.length > 0,
      parentInstanceId: o.parent?.id,
      upperSchemaVersion: V3,
      maximumShortTimerDuration: '6.00:00:00',
      longRunningTimerIntervalDuration: '3.00:00:00',
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    };
    let state: { isDone: boolean; actions: Json[][]; output?: Json; error?: string };
    try {
      // What the worker sends the host is JSON: the same round trip here.
      state = JSON.parse(JSON.stringify(await reg.handler(trigger, this.opts.context(reg)))) as typeof state;
    } catch (err) {
      const msg = (err as Error).message;
      const data = msg.split('$OutOfProcData$:')[1];
      state = data ? JSON.parse(data) : { isDone: false, actions: [[]], error: msg };
      state.error = state.error ?? msg.split('\n')[0];
    }
    this.counters.workItems.orchestrator++;
    this.counters.episodes[o.name] = (this.counters.episodes[o.name] ?? 0) + 1;
    if (redeliver) {
      this.counters.redelivered++;
      return; // lost before the checkpoint: the same messages run again
    }
    for (const m of visible) o.inbox.splice(o.inbox.indexOf(m), 1);
    o.history = history.map((e) => ({ ...e, IsPlayed: true }));
    o.status = 'Running';
    o.updatedAt = this.clock;
    this.counters.checkpoints++;
    if (state.error) {
      o.status = 'Failed';
      o.output = state.error;
      this.opts.log?.(`orchestration ${o.id} failed: ${state.error}`);
      this.notifyParent(o, false);
      return;
    }
    const flat = flatten(state.actions.flat());
    const scheduled = o.history.filter((e) =>
      [H.TaskScheduled, H.TimerCreated, H.EventSent, H.SubOrchestrationInstanceCreated].includes(e.EventType as never),
    ).length;
    const numbered = flat.filter((a) => a.actionType !== A.WaitForExternalEvent && a.actionType !== A.ContinueAsNew);
    numbered.slice(scheduled).forEach((a, i) => this.dispatch(o, a, scheduled + i));
    const cont = flat.find((a) => a.actionType === A.ContinueAsNew);
    o.history.push({
      EventType: H.OrchestratorCompleted,
      EventId: -1,
      IsPlayed: true,
      Timestamp: new Date(this.clock),
    });
    if (cont) {
      o.execution++;
      o.history = [];
      o.input = cont.input === undefined ? null : JSON.parse(wire(cont.input));
      // A new generation: completions and events addressed to the old one are discarded.
      o.inbox = [];
      this.counters.continuedAsNew++;
      this.send(o, { EventType: H.ExecutionStarted, Name: o.name, Input: JSON.stringify(o.input) }, o.execution);
    } else if (state.isDone) {
      o.status = 'Completed';
      o.output = state.output;
      this.notifyParent(o, true);
    }
  }

  private duplicate(o: Orchestration, e: Message['event']): boolean {
    const key = e.EventType === H.TimerFired ? 'TimerId' : 'TaskScheduledId';
    if (
      ![H.TaskCompleted, H.TaskFailed, H.TimerFired, H.SubOrchestrationInstanceCompleted].includes(e.EventType as never)
    )
      return false;
    return o.history.some((h) => h.EventType === e.EventType && h[key] === e[key]);
  }

  private dispatch(o: Orchestration, a: Record<string, unknown>, eventId: number) {
    const at = new Date(this.clock);
    const record = (e: Record<string, unknown>) =>
      o.history.push({ ...e, EventId: eventId, IsPlayed: true, Timestamp: at } as unknown as HistoryEvent);
    switch (a.actionType) {
      case A.CallActivity:
      case A.CallActivityWithRetry: {
        record({ EventType: H.TaskScheduled, Name: a.functionName, Input: a.input });
        this.counters.messages++;
        this.activities.push({
          orchestration: o.id,
          execution: o.execution,
          eventId,
          name: String(a.functionName),
          input: wire(a.input),
        });
        return;
      }
      case A.CreateTimer: {
        const fireAt = new Date(a.fireAt as string);
        record({ EventType: H.TimerCreated, FireAt: fireAt });
        this.send(o, { EventType: H.TimerFired, TimerId: eventId, FireAt: fireAt }, o.execution, fireAt.getTime());
        return;
      }
      case A.CallEntity:
      case A.SignalEntity: {
        const target = String(a.instanceId);
        const id = `req-${o.id}-${o.execution}-${eventId}`;
        const signal = a.actionType === A.SignalEntity;
        record({ EventType: H.EventSent, InstanceId: target, Name: 'op', Input: JSON.stringify({ id }) });
        this.counters.messages++;
        this.entity(target).inbox.push({
          id,
          op: String(a.operation),
          input: wire(a.input),
          signal,
          ...(signal ? {} : { parent: { id: o.id, execution: o.execution } }),
        });
        return;
      }
      case A.CallSub:
      case A.CallSubWithRetry: {
        const child = String(a.instanceId || `${o.id}:${eventId}`);
        record({ EventType: H.SubOrchestrationInstanceCreated, Name: a.functionName, InstanceId: child });
        const input = a.input === undefined ? null : a.input;
        if (!this.start(String(a.functionName), child, input, { id: o.id, execution: o.execution, eventId })) {
          this.send(
            o,
            { EventType: H.SubOrchestrationInstanceFailed, TaskScheduledId: eventId, Reason: 'exists', Details: '' },
            o.execution,
          );
        }
        return;
      }
      default:
        throw new Error(`action type ${a.actionType} is not simulated`);
    }
  }

  private notifyParent(o: Orchestration, ok: boolean) {
    const p = o.parent && this.orchestrations.get(o.parent.id);
    if (!p || !o.parent) return;
    const event = ok
      ? {
          EventType: H.SubOrchestrationInstanceCompleted,
          TaskScheduledId: o.parent.eventId,
          Result: JSON.stringify(o.output ?? null),
        }
      : {
          EventType: H.SubOrchestrationInstanceFailed,
          TaskScheduledId: o.parent.eventId,
          Reason: String(o.output),
          Details: '',
        };
    this.send(p, event, o.parent.execution);
  }

  private async batch(e: EntityInstance): Promise<void> {
    const batch = this.takePrefix(e.inbox, () => true);
    const reg = this.reg(e.name, 'entityTrigger');
    const trigger = {
      self: { name: e.name, key: e.key },
      exists: e.exists,
      state: e.state,
      batch: batch.map((r) => ({ id: r.id, name: r.op, signal: r.signal, input: r.input })),
    };
    const out = (await reg.handler(trigger, this.opts.context(reg))) as {
      entityExists: boolean;
      entityState?: string;
      results: { isError: boolean; result?: string }[];
      signals: { target: { name: string; key: string }; name: string; input: string }[];
    };
    this.counters.workItems.entity++;
    this.counters.entityOperations += batch.length;
    if (this.random() < (this.opts.faults?.episodeRedelivery ?? 0)) {
      this.counters.redelivered++;
      return;
    }
    for (const r of batch) e.inbox.splice(e.inbox.indexOf(r), 1);
    this.counters.checkpoints++;
    e.exists = out.entityExists;
    e.state = out.entityExists ? out.entityState : undefined;
    batch.forEach((r, i) => {
      if (r.signal || !r.parent) return;
      const p = this.orchestrations.get(r.parent.id);
      const res = out.results[i];
      if (!p) return;
      const body = res?.isError ? { result: res.result ?? '', exceptionType: 'Error' } : { result: res?.result ?? '' };
      this.send(p, { EventType: H.EventRaised, Name: r.id, Input: JSON.stringify(body) }, r.parent.execution);
    });
    for (const s of out.signals) this.signal(`@${s.target.name.toLowerCase()}@${s.target.key}`, s.name, s.input);
  }

  private async activity(a: ActivityItem): Promise<void> {
    this.activities.splice(this.activities.indexOf(a), 1);
    const reg = this.reg(a.name, 'activityTrigger');
    const o = this.orchestrations.get(a.orchestration);
    const f = this.opts.faults ?? {};
    let event: Message['event'];
    this.counters.workItems.activity++;
    this.counters.activities[a.name] = (this.counters.activities[a.name] ?? 0) + 1;
    try {
      if (this.random() < (f.activityFailure ?? 0)) throw new Error(`injected failure of ${a.name}`);
      const result = await reg.handler(a.input ? JSON.parse(a.input) : undefined, this.opts.context(reg));
      event = { EventType: H.TaskCompleted, TaskScheduledId: a.eventId, Result: JSON.stringify(result ?? null) };
    } catch (err) {
      event = { EventType: H.TaskFailed, TaskScheduledId: a.eventId, Reason: (err as Error).message, Details: '' };
    }
    if (this.random() < (f.activityRedelivery ?? 0)) {
      this.counters.redelivered++;
      this.activities.push(a); // its completion was lost: it runs again
      return;
    }
    if (o) this.send(o, event, a.execution);
  }
}
