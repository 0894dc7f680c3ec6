import type { SurfaceClaim } from '../calls';
import type { EmulatorContext } from '../context';
import { newId } from '../protocol';
import { deliverWebhook, newWebhookId, type Delivery, type WebhookTarget } from '../webhooks';
import type { StartupConfig } from './config';
import { LiveSession, type CloseReason } from './session';

export type LiveCallState = 'ringing' | 'active' | 'closed' | 'rejected' | 'referred' | 'expired';

/** A SIP call on the Live surface: ringing under its `live_…` id until accepted, then a Live session. */
export interface LiveSipCall {
  id: string;
  state: LiveCallState;
  sipHeaders: { name: string; value: string }[];
  createdAt: number;
  session?: LiveSession;
  rejectStatus?: number;
  referredTo?: string;
  endedReason?: string;
  deliveries: Delivery[];
  expiry?: NodeJS.Timeout;
  /** Set when the same call is also offered on the Realtime API (`realtime.call.incoming`). */
  claim?: SurfaceClaim;
}

export class LiveError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export interface LiveServiceOptions {
  webhook?: WebhookTarget;
  callExpiryMs: number;
  /** How often `session.usage.updated` is sent (about every 15 s on the service). */
  usageIntervalMs?: number;
}

/** Every Live session by id (WebRTC, primary WebSocket, SIP), and the SIP calls still ringing. */
export class LiveService {
  readonly sessions = new Map<string, LiveSession>();
  readonly sip = new Map<string, LiveSipCall>();
  private stopped = false;

  constructor(
    readonly ctx: EmulatorContext,
    readonly opts: LiveServiceOptions,
  ) {}

  create(config: StartupConfig, transport: 'webrtc' | 'websocket' | 'sip', id?: string): LiveSession {
    const s = new LiveSession(this.ctx, { id, transport, config, usageIntervalMs: this.opts.usageIntervalMs });
    this.sessions.set(s.id, s);
    s.onClose(() => {
      // Closed sessions stay listed (tests read their transcripts) for a quarter of an hour.
      setTimeout(() => this.sessions.delete(s.id), 15 * 60_000).unref();
    });
    return s;
  }

  /** A WebRTC session is up (its offer answered): `live.transport.connected` names it for sideband observers. */
  connected(s: LiveSession): void {
    this.notify('live.transport.connected', { session_id: s.id, type: 'webrtc' });
  }

  get(id: string): LiveSession | undefined {
    return this.sessions.get(id);
  }

  /** An INVITE reached the trunk: a pending `live_…` session and a signed `live.transport.incoming`. */
  incomingSip(
    o: { from: string; to: string; headers?: { name: string; value: string }[] },
    twin?: { claim: SurfaceClaim; sipHeaders: { name: string; value: string }[] },
  ): LiveSipCall {
    const id = newId('live', 32);
    const sipHeaders = twin?.sipHeaders ?? [
      { name: 'From', value: o.from },
      { name: 'To', value: o.to },
      { name: 'Call-ID', value: `${newId('sip', 16)}@emulator.invalid` },
      ...(o.headers ?? []),
    ];
    const call: LiveSipCall = {
      id,
      state: 'ringing',
      sipHeaders,
      createdAt: Date.now(),
      deliveries: [],
      claim: twin?.claim,
    };
    this.sip.set(id, call);
    twin?.claim.onClaim((by) => {
      if (by === 'realtime') this.end(call, 'closed', 'answered on the Realtime API');
    });
    call.expiry = setTimeout(() => this.end(call, 'expired', 'not accepted in time'), this.opts.callExpiryMs);
    call.expiry.unref();
    const delivery = this.notify(
      'live.transport.incoming',
      { session_id: id, sip_headers: sipHeaders, type: 'sip' },
      () => call.state !== 'ringing',
    );
    if (delivery) call.deliveries.push(delivery);
    return call;
  }

  private notify(type: string, data: unknown, isDone: () => boolean = () => false): Delivery | undefined {
    const target = this.opts.webhook;
    if (!target) return undefined;
    const delivery: Delivery = { webhookId: newWebhookId(), attempts: [], delivered: false };
    const event = { object: 'event', id: newId('evt', 24), type, created_at: Math.floor(Date.now() / 1000), data };
    void deliverWebhook(target, event, delivery, this.ctx.log, () => this.stopped || isDone());
    return delivery;
  }

  private ringing(id: string, action: string): LiveSipCall {
    const call = this.sip.get(id);
    if (!call) {
      if (this.sessions.has(id))
        throw new LiveError(400, 'invalid_request', `Session ${id} is not a SIP call; it cannot be ${action}.`);
      throw new LiveError(404, 'session_not_found', `No Live session with id '${id.slice(0, 64)}'.`);
    }
    if (call.state !== 'ringing')
      throw new LiveError(409, 'session_not_ringing', `Session ${id} is ${call.state}; it cannot be ${action}.`);
    if (call.claim && !call.claim.take('live'))
      throw new LiveError(409, 'session_not_ringing', `Session ${id} is being answered on the Realtime API.`);
    return call;
  }

  accept(id: string, config: StartupConfig): LiveSession {
    const call = this.ringing(id, 'accepted');
    clearTimeout(call.expiry);
    call.state = 'active';
    const s = this.create(config, 'sip', id);
    call.session = s;
    s.onClose((reason) => {
      if (call.state === 'active') {
        call.state = 'closed';
        call.endedReason = reason;
      }
    });
    return s;
  }

  reject(id: string, statusCode: number): void {
    const call = this.ringing(id, 'rejected');
    call.rejectStatus = statusCode;
    this.end(call, 'rejected', `rejected with SIP ${statusCode}`);
  }

  refer(id: string, targetUri: string): void {
    const call = this.sip.get(id);
    if (!call) return void this.ringing(id, 'referred');
    if (call.state !== 'active' && call.state !== 'ringing')
      throw new LiveError(409, 'session_closed', `Session ${id} is ${call.state}; it cannot be referred.`);
    if (call.state === 'ringing') this.ringing(id, 'referred');
    call.referredTo = targetUri;
    this.end(call, 'referred', `referred to ${targetUri}`);
  }

  /** Ends a SIP call, or any active session (the application's hangup request). */
  hangup(id: string): void {
    const call = this.sip.get(id);
    if (call && call.state === 'ringing') return this.end(call, 'closed', 'hung up before answer');
    const s = this.sessions.get(id);
    if (!s) throw new LiveError(404, 'session_not_found', `No Live session with id '${id.slice(0, 64)}'.`);
    if (s.closed) throw new LiveError(409, 'session_closed', `Session ${id} has already closed (${s.closed}).`);
    s.close('close_requested');
  }

  private end(
    call: LiveSipCall,
    state: LiveCallState,
    reason: string,
    closeReason: CloseReason = 'close_requested',
  ): void {
    if (call.state !== 'ringing' && call.state !== 'active') return;
    clearTimeout(call.expiry);
    call.state = state;
    call.endedReason = reason;
    call.session?.close(closeReason);
  }

  /** A keypress from the SIP caller, delivered to sideband observers only. */
  dtmf(id: string, key: string): void {
    const s = this.sessions.get(id);
    if (!s || s.closed || s.transport !== 'sip')
      throw new LiveError(404, 'session_not_found', `No active SIP session '${id}'.`);
    s.emitTo(['sideband'], { type: 'transport.dtmf.received', event: key });
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.sip.values()) this.end(c, 'closed', 'emulator stopped');
    for (const s of this.sessions.values()) s.close('close_requested');
  }
}
