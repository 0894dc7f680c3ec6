import type { ResponseCreateEvent } from 'openai/resources/realtime/realtime';
import { str, type ServerEvent } from '../shared/realtime/events';

/**
 * What a response is for. The gate treats them alike except as the request says; the kind is for logs and
 * for tests.
 */
export type ResponseKind = 'greeting' | 'progress' | 'tool-result' | 'revert' | (string & {});

export interface ResponseRequest {
  kind: ResponseKind;
  /** `response.create` parameters (instructions for a progress line, say); none: the session's defaults. */
  response?: ResponseCreateEvent['response'];
  /**
   * Asked only if nothing is in flight or waiting right now, otherwise dropped; a refusal drops it too. For
   * lines that are worse late than never ("one moment" after the answer).
   */
  onlyIfIdle?: boolean;
  /** A waiting request of the same kind absorbs this one: several tool results get one answer. */
  coalesce?: boolean;
}

/**
 * answered: a response for it ran (done, or started before the connection dropped). dropped: not asked
 * (onlyIfIdle, cancelled). failed: the service refused it for another reason than a busy conversation.
 */
export type RequestOutcome = 'answered' | 'dropped' | 'failed' | 'closed';

export interface RequestHandle {
  readonly outcome: Promise<RequestOutcome>;
  /** Withdraws a request not yet sent; false when it is already out. */
  cancel(): boolean;
}

export interface ResponseGateOptions {
  /** Sends one `response.create`; the gate only calls it while the connection is up. */
  send(event: ResponseCreateEvent): void;
  log?(line: string): void;
  /** The event id prefix of our `response.create`s: a refusal names the event it refuses. */
  idPrefix?: string;
  /**
   * The service echoes a response's metadata in `response.created` (GA Realtime documents it). When unknown,
   * the gate learns it from the first tagged response and, until then, takes the first response to start
   * while it waits as its own.
   */
  echoesMetadata?: boolean;
}

export const ALREADY_ACTIVE = 'conversation_already_has_active_response';

interface Entry {
  id: number;
  req: ResponseRequest;
  settle(o: RequestOutcome): void;
  settled: boolean;
  /** The event id of the `response.create` last sent for it. */
  eventId?: string;
  /** Its response is known to be its own (tagged), not merely the first to start while it waited. */
  confirmed?: boolean;
}

/** A placeholder for a response the service says is active before we have seen it start. */
const UNSEEN = '(unseen)';
/** The metadata key our `response.create`s carry: a service that echoes it lets the gate tell its responses apart. */
export const GATE_TAG = 'gate_event';
/** Answered requests remembered for a refusal that arrives after the response taken for theirs was done. */
const RECENT = 8;

/**
 * Owns "at most one response in flight" on a session's sideband. Everything the worker wants said (greeting,
 * "one moment" progress, tool results, reverts) is a `request()`; the gate sends one `response.create` at a
 * time, only when no response is active (ours, the server's turn-detection one, or the page's) and none of ours
 * awaits its start. A `response.create` the service refuses because a response is active
 * (`conversation_already_has_active_response`, matched by event id) goes back to the head of the queue and is
 * asked again once that response is done: a refused request is never lost. A dropped connection puts what
 * was sent but not yet started back in the queue; the next connection asks again.
 *
 * Which `response.created` answers our request: the one whose metadata carries our event id. With a service
 * not known to echo metadata, the first response to start while we wait is taken as ours; a refusal of our
 * event that follows shows it was not, and the request is asked again (its outcome may then already read
 * `answered`). Only there is a loss possible: taken for answered, and the connection drops before the service
 * saw the request.
 */
export class ResponseGate {
  private queue: Entry[] = [];
  /** Sent, waiting for its response.created or a refusal. */
  private awaiting: Entry | undefined;
  /** Started on our account, by response id. */
  private readonly startedFor = new Map<string, Entry>();
  private recent: Entry[] = [];
  /** Responses the service has running (any origin). */
  private readonly active = new Set<string>();
  private echoesMetadata: boolean;
  private online = false;
  private closed = false;
  private seq = 0;
  private eventSeq = 0;

  constructor(private readonly opts: ResponseGateOptions) {
    this.echoesMetadata = opts.echoesMetadata ?? false;
  }

  /** Something is in flight (active, or asked and not yet started). */
  get busy(): boolean {
    return this.active.size > 0 || this.awaiting !== undefined;
  }

  get state(): { online: boolean; active: number; awaiting?: ResponseKind; queued: ResponseKind[] } {
    return {
      online: this.online,
      active: this.active.size,
      awaiting: this.awaiting?.req.kind,
      queued: this.queue.map((e) => e.req.kind),
    };
  }

  request(req: ResponseRequest): RequestHandle {
    let resolve!: (o: RequestOutcome) => void;
    const outcome = new Promise<RequestOutcome>((r) => (resolve = r));
    const entry: Entry = { id: ++this.seq, req, settled: false, settle: () => {} };
    entry.settle = (o) => {
      if (entry.settled) return;
      entry.settled = true;
      resolve(o);
    };
    const handle: RequestHandle = {
      outcome,
      cancel: () => {
        const at = this.queue.indexOf(entry);
        if (at < 0) return false;
        this.queue.splice(at, 1);
        entry.settle('dropped');
        return true;
      },
    };
    if (this.closed) entry.settle('closed');
    else if (req.onlyIfIdle && (!this.online || this.busy || this.queue.length > 0)) entry.settle('dropped');
    else {
      const twin = req.coalesce ? this.queue.find((e) => e.req.kind === req.kind) : undefined;
      if (twin) {
        // One answer covers both; the later request's parameters win (they were built with more context).
        if (req.response) twin.req = { ...twin.req, response: req.response };
        const forward = twin.settle;
        twin.settle = (o) => (forward(o), entry.settle(o));
      } else {
        this.queue.push(entry);
        this.pump();
      }
    }
    return handle;
  }

  /** Feed every server event of the session, in order. */
  onServerEvent(ev: ServerEvent): void {
    if (ev.type === 'response.created') this.onCreated(str(ev.response?.id) ?? UNSEEN, ev.response?.metadata);
    else if (ev.type === 'response.done') this.onDone(str(ev.response?.id) ?? UNSEEN);
    else if (ev.type === 'error') this.onError(ev.error);
  }

  private onCreated(id: string, metadata: Record<string, string> | null | undefined) {
    this.active.delete(UNSEEN);
    this.active.add(id);
    const tag = str(metadata?.[GATE_TAG]);
    if (tag) this.echoesMetadata = true;
    const mine = this.awaiting;
    if (!mine) return;
    if (tag ? tag === mine.eventId : !this.echoesMetadata) {
      this.awaiting = undefined;
      mine.confirmed = Boolean(tag);
      this.startedFor.set(id, mine);
    }
  }

  private onDone(id: string) {
    // A response we never saw start (it began before this connection) may be the one a refusal told of.
    if (!this.active.delete(id)) this.active.delete(UNSEEN);
    const entry = this.startedFor.get(id);
    if (entry) {
      this.startedFor.delete(id);
      entry.settle('answered');
      this.recent = [entry, ...this.recent].slice(0, RECENT);
    }
    this.pump();
  }

  private onError(error: { code?: string | null; message?: string; event_id?: string | null } | undefined) {
    const eventId = str(error?.event_id);
    const code = str(error?.code) ?? '';
    let entry: Entry | undefined;
    if (eventId) entry = this.takeSent(eventId);
    else if (this.awaiting && (code === ALREADY_ACTIVE || /response[._]create/.test(`${code} ${error?.message}`))) {
      // A service that does not name the event: the refusal can only be of what we are waiting on.
      entry = this.awaiting;
      this.awaiting = undefined;
    }
    if (!entry) return;
    if (code === ALREADY_ACTIVE) {
      // The service has a response running that we have not seen finish; its response.done frees the slot.
      if (this.active.size === 0) this.active.add(UNSEEN);
      if (entry.req.onlyIfIdle) entry.settle('dropped');
      else {
        this.queue.unshift(entry);
        this.opts.log?.(`response.create (${entry.req.kind}) refused: a response is active; asking again after it`);
      }
    } else {
      this.opts.log?.(`response.create (${entry.req.kind}) failed: ${code} ${error?.message ?? ''}`);
      entry.settle('failed');
    }
    this.pump();
  }

  /** The request whose `response.create` had this event id, taken out of wherever it was counted. */
  private takeSent(eventId: string): Entry | undefined {
    if (this.awaiting?.eventId === eventId) {
      const e = this.awaiting;
      this.awaiting = undefined;
      return e;
    }
    for (const [rid, e] of this.startedFor) {
      if (e.eventId !== eventId) continue;
      // The response taken for ours was another's (it stays active); ours was refused.
      this.startedFor.delete(rid);
      return e;
    }
    const at = this.recent.findIndex((e) => e.eventId === eventId);
    if (at < 0) return undefined;
    return this.recent.splice(at, 1)[0];
  }

  /** The connection is up (after session.update went out): asking may start. */
  connected(): void {
    if (this.closed) return;
    this.online = true;
    this.pump();
  }

  /**
   * The connection dropped: what the service runs is no longer ours to track, and a request sent but not yet
   * started may never have arrived, so it goes back to the head of the queue.
   */
  disconnected(): void {
    this.online = false;
    this.active.clear();
    this.recent = [];
    // A response known to be ours was started: it is said. One only taken for ours may have been another's.
    const unsure = [...this.startedFor.values()].filter((e) => !e.confirmed || (e.settle('answered'), false));
    this.startedFor.clear();
    if (this.awaiting) unsure.push(this.awaiting);
    this.awaiting = undefined;
    for (const e of unsure.reverse()) {
      if (e.req.onlyIfIdle) e.settle('dropped');
      else this.queue.unshift(e);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.online = false;
    for (const e of this.startedFor.values()) e.settle('answered');
    this.startedFor.clear();
    const rest = [...(this.awaiting ? [this.awaiting] : []), ...this.queue];
    this.awaiting = undefined;
    this.queue = [];
    for (const e of rest) e.settle('closed');
  }

  private pump(): void {
    if (!this.online || this.closed || this.busy) return;
    const next = this.queue.shift();
    if (!next) return;
    const eventId = `${this.opts.idPrefix ?? 'gate'}_${next.id}_${++this.eventSeq}`;
    next.eventId = eventId;
    this.awaiting = next;
    const response = next.req.response ?? {};
    this.opts.send({
      type: 'response.create',
      event_id: eventId,
      response: { ...response, metadata: { ...response.metadata, [GATE_TAG]: eventId } },
    });
  }
}
