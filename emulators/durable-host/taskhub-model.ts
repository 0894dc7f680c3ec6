import type { Registration } from './functions-core';

/** The task hub's data model: history-event and action codes, queue items, options, and small helpers. */
export type Json = unknown;
export type HistoryEvent = Record<string, unknown> & { EventType: number; EventId: number; IsPlayed: boolean };

export const H = {
  ExecutionStarted: 0,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
} as const;
export const A = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSub: 2,
  CallSubWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  SignalEntity: 9,
  WhenAny: 11,
  WhenAll: 12,
};
export const V3 = 2;

export interface Message {
  event: Omit<HistoryEvent, 'EventId' | 'IsPlayed'>;
  execution: number;
  visibleAt: number;
}
export interface Orchestration {
  id: string;
  name: string;
  status: 'Pending' | 'Running' | 'Completed' | 'Failed' | 'Terminated';
  input: Json;
  output?: Json;
  execution: number;
  history: HistoryEvent[];
  inbox: Message[];
  createdAt: number;
  updatedAt: number;
  parent?: { id: string; execution: number; eventId: number };
}
export interface EntityRequest {
  id: string;
  op: string;
  input: string;
  signal: boolean;
  parent?: { id: string; execution: number };
}
export interface EntityInstance {
  id: string;
  name: string;
  key: string;
  exists: boolean;
  state?: string;
  inbox: EntityRequest[];
}
export interface ActivityItem {
  orchestration: string;
  execution: number;
  eventId: number;
  name: string;
  input: string;
}

export interface Faults {
  /** Share of activity executions that throw instead of running. */
  activityFailure?: number;
  /** Share of activity executions run again after completing (at-least-once: the first completion is lost). */
  activityRedelivery?: number;
  /** Share of orchestrator episodes and entity batches discarded before their checkpoint and run again. */
  episodeRedelivery?: number;
}

export interface HubOptions {
  registrations: Registration[];
  seed?: number;
  start?: number;
  faults?: Faults;
  /** Builds the context (invocation + extra inputs such as the durable client) a function is invoked with. */
  context: (reg: Registration) => unknown;
  log?: (line: string) => void;
}

export function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

export const triggerOf = (r: Registration) => Object.values(r.bindings).find((b) => /trigger$/i.test(b.type))?.type;

/** Inputs as the worker sends them: objects as JSON, strings already JSON-encoded by the library. */
export const wire = (v: unknown) => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));

export function flatten(actions: Json[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const a of actions as Record<string, unknown>[]) {
    if (a.actionType === A.WhenAll || a.actionType === A.WhenAny) out.push(...flatten(a.compoundActions as Json[]));
    else out.push(a);
  }
  return out;
}
