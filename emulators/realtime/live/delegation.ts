import type { ConversationItem } from 'openai/resources/realtime/realtime';
import { decide } from '../model';
import { newId } from '../protocol';
import { parseJson } from '../scenarios';
import { startResponse } from '../responder';
import { delegationTools } from './engine';
import { ResponseStream } from './responses-events';
import type { LiveSession } from './session';

export interface Delegation {
  id: string;
  target: 'client' | 'responses' | 'decisions';
  callId: string;
  name: string;
  args: string;
  responseId?: string;
  answered: boolean;
}

type Json = Record<string, unknown>;
const ACKNOWLEDGEMENT = 'One moment, let me check.';

/**
 * Work the Live model hands off. The scripted model decides to delegate where a scenario rule names a tool.
 * Client delegation: `session.delegation.created` (metadata only), the application answers with
 * `session.commentary.append` for that delegation. Responses delegation: the emulated backend calls the
 * configured function (`response.event`-wrapped Responses stream), the application answers with
 * `response.item.create` (`function_call_output`) and `response.create`. Either way the model then speaks.
 */
export class Delegations {
  readonly byId = new Map<string, Delegation>();
  private readonly queue: { ack: boolean; run: () => void }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly s: LiveSession) {}

  get mode(): Delegation['target'] {
    return (this.s.resource.delegation?.type ?? 'client') as Delegation['target'];
  }

  private get ackDelayMs(): number {
    const d = this.s.resource.delegation as Json | null | undefined;
    const v = d?.acknowledgement_delay_ms;
    return typeof v === 'number' ? v : this.mode === 'decisions' ? 400 : 0;
  }

  /** The engine's model called a tool: in Live terms it delegated. */
  delegate(call: { callId: string; name: string; args: string }): void {
    const d: Delegation = { id: newId('item'), target: this.mode, ...call, answered: false };
    this.byId.set(d.id, d);
    if (d.target === 'responses') {
      const stream = new ResponseStream(this.backendModel).functionCall(call.callId, call.name, call.args);
      d.responseId = stream.id;
      this.s.emit({
        type: 'session.delegation.created',
        delegation: { id: d.id, type: 'delegation', target: 'responses', response_id: d.responseId },
        offset_ms: this.s.elapsedMs,
      });
      this.emitStream(stream.complete(this.s.engine.config.instructions?.length ?? 0, call.args.length), d.id);
    } else {
      this.s.emit({
        type: 'session.delegation.created',
        delegation: { id: d.id, type: 'delegation', target: d.target },
        offset_ms: this.s.elapsedMs,
      });
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.enqueue(() => this.say(ACKNOWLEDGEMENT), true);
    }, this.ackDelayMs);
    this.timers.add(t);
  }

  private get backendModel(): string {
    const d = this.s.resource.delegation as Json | null | undefined;
    return String((d?.responses as Json | undefined)?.model ?? 'gpt-5');
  }

  private emitStream(events: Json[], delegationId: string | null): void {
    for (const event of events) this.s.emit({ type: 'response.event', event, delegation_id: delegationId });
  }

  /** Commentary or thinking arrived: every pending acknowledgement is dropped. */
  cancelAcknowledgements(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.ack) this.queue.splice(i, 1);
  }

  /** Speech waits for the response in flight: the engine speaks one response at a time. */
  enqueue(run: () => void, ack = false): void {
    this.queue.push({ ack, run });
    this.engineIdle();
  }

  engineIdle(): void {
    if (this.s.closed || this.s.engine.active) return;
    this.queue.shift()?.run();
  }

  say(text: string): void {
    startResponse(this.s.engine, { instructions: `Say: "${text.replace(/["“”]/g, "'")}"` });
  }

  /**
   * A client delegation's result. JSON (a tool's output) is answered the way the scenario's rule words it;
   * plain text is the model's line, spoken as given.
   */
  commentary(content: string, delegationId: string | null): void {
    this.cancelAcknowledgements();
    const d = delegationId ? this.byId.get(delegationId) : undefined;
    if (!d || d.answered) return this.enqueue(() => this.say(content));
    d.answered = true;
    const parsed = parseJson(content);
    const output: ConversationItem = {
      id: newId('item'),
      type: 'function_call_output',
      call_id: d.callId,
      output: content,
    } as ConversationItem;
    this.s.engine.insertItem(output, undefined, false);
    if (parsed && typeof parsed === 'object') this.enqueue(() => startResponse(this.s.engine, {}));
    else {
      this.s.engine.answeredCalls.add(d.callId);
      this.enqueue(() => this.say(content));
    }
  }

  /** `response.item.create` under Responses delegation: an input item for the backend conversation. */
  addBackendItem(item: Json): string | undefined {
    if (item.type === 'function_call_output') {
      const callId = String(item.call_id ?? '');
      if (!this.s.engine.calls.has(callId)) return `No function call with call_id '${callId.slice(0, 64)}'.`;
      const output = typeof item.output === 'string' ? item.output : JSON.stringify(item.output ?? '');
      this.s.engine.insertItem(
        { id: newId('item'), type: 'function_call_output', call_id: callId, output } as ConversationItem,
        undefined,
        false,
      );
      return undefined;
    }
    if (item.type === 'message' || (item.role !== undefined && item.type === undefined)) {
      const text = typeof item.content === 'string' ? item.content : JSON.stringify(item.content ?? '');
      const role = item.role === 'assistant' ? 'assistant' : item.role === 'user' ? 'user' : 'system';
      const type = role === 'assistant' ? 'output_text' : 'input_text';
      this.s.engine.insertItem(
        { id: newId('item'), type: 'message', role, status: 'completed', content: [{ type, text }] } as never,
        undefined,
        false,
      );
      return undefined;
    }
    return `Items of type '${String(item.type).slice(0, 40)}' are not emulated.`;
  }

  /** `response.create` under Responses delegation: the backend answers (or calls again), the model speaks. */
  backendRespond(): void {
    const engine = this.s.engine;
    const decision = decide(this.s.ctx.scenarios, {
      items: engine.items,
      tools: delegationTools(this.s.ctx, this.s.resource),
      instructions: engine.config.instructions ?? '',
      calls: engine.calls,
      answered: engine.answeredCalls,
    });
    const waiting = [...this.byId.values()].filter((x) => x.target === 'responses' && !x.answered);
    const owner = waiting[0] ?? [...this.byId.values()].at(-1);
    const stream = new ResponseStream(this.backendModel);
    if (decision.kind === 'call') {
      const callId = newId('call');
      engine.calls.set(callId, decision.pending);
      engine.insertItem(
        {
          id: newId('item'),
          type: 'function_call',
          status: 'completed',
          call_id: callId,
          name: decision.name,
          arguments: decision.arguments,
        } as ConversationItem,
        undefined,
        false,
      );
      return this.emitStream(
        stream.functionCall(callId, decision.name, decision.arguments).complete(0, decision.arguments.length),
        owner?.id ?? null,
      );
    }
    for (const id of decision.answers ?? []) {
      engine.answeredCalls.add(id);
      for (const d of this.byId.values()) if (d.callId === id) d.answered = true;
    }
    this.emitStream(stream.message(decision.text).complete(0, decision.text.length), owner?.id ?? null);
    this.enqueue(() => this.say(decision.text));
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queue.length = 0;
  }
}
