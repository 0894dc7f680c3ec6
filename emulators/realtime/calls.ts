import type { RealtimeSessionCreateRequest } from 'openai/resources/realtime/realtime';
import type { EmulatorContext } from './context';
import { newId } from './protocol';
import { RealtimeSession } from './session';
import { deliverWebhook, newWebhookId, type Delivery, type WebhookTarget } from './webhooks';

export type CallState = 'ringing' | 'active' | 'ended' | 'rejected' | 'referred' | 'expired';

export interface Call {
  id: string;
  kind: 'webrtc' | 'sip';
  state: CallState;
  session?: RealtimeSession;
  sipHeaders: { name: string; value: string }[];
  createdAt: number;
  endedReason?: string;
  endedAt?: number;
  referredTo?: string;
  rejectStatus?: number;
  deliveries: Delivery[];
  /** Closes the media leg (WebRTC peer connection). */
  closeMedia?: () => Promise<void>;
  expiry?: NodeJS.Timeout;
  /** Set when the same call is also offered on the Live API. */
  claim?: SurfaceClaim;
}

/**
 * One ringing SIP call offered on both the Realtime and the Live API: the first call control on either surface
 * (accept, reject, refer) decides which one serves it, and the other stops ringing.
 */
export class SurfaceClaim {
  by?: 'realtime' | 'live';
  private readonly listeners: ((by: 'realtime' | 'live') => void)[] = [];

  onClaim(fn: (by: 'realtime' | 'live') => void): void {
    this.listeners.push(fn);
  }

  /** False when the other surface already has the call. */
  take(by: 'realtime' | 'live'): boolean {
    if (this.by) return this.by === by;
    this.by = by;
    for (const fn of this.listeners) fn(by);
    return true;
  }
}

export class CallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** WebRTC and SIP calls by id: the sideband (`?call_id=`) and the call control endpoints look them up here. */
export class Calls {
  readonly byId = new Map<string, Call>();
  private stopped = false;

  constructor(
    private readonly ctx: EmulatorContext,
    private readonly opts: { webhook?: WebhookTarget; callExpiryMs: number; defaultModel: string },
  ) {}

  /** Ended calls stay visible (tests and /_emulator/sessions read them) for a while, then go. */
  private prune(): void {
    const cutoff = Date.now() - 15 * 60_000;
    for (const [id, c] of this.byId)
      if (c.state !== 'ringing' && c.state !== 'active' && (c.endedAt ?? Infinity) < cutoff) this.byId.delete(id);
  }

  get(id: string): Call | undefined {
    return this.byId.get(id);
  }

  /** A WebRTC call: active at once, its session configured by the request (or the ephemeral key). */
  createWebRtc(config: Partial<RealtimeSessionCreateRequest> | undefined, ephemeral: boolean): Call {
    this.prune();
    const id = newId('rtc', 24);
    const call: Call = { id, kind: 'webrtc', state: 'active', sipHeaders: [], createdAt: Date.now(), deliveries: [] };
    call.session = this.newSession(call, 'webrtc', config, ephemeral);
    this.byId.set(id, call);
    return call;
  }

  /** Simulates an INVITE reaching the SIP trunk: a ringing call and a signed `realtime.call.incoming` webhook. */
  incomingSip(
    o: { from: string; to: string; headers?: { name: string; value: string }[] },
    claim?: SurfaceClaim,
  ): Call {
    this.prune();
    const id = newId('rtc', 24);
    const callIdHeader = `${newId('sip', 16)}@emulator.invalid`;
    const sipHeaders = [
      { name: 'From', value: o.from },
      { name: 'To', value: o.to },
      { name: 'Call-ID', value: callIdHeader },
      ...(o.headers ?? []),
    ];
    const call: Call = { id, kind: 'sip', state: 'ringing', sipHeaders, createdAt: Date.now(), deliveries: [], claim };
    this.byId.set(id, call);
    claim?.onClaim((by) => {
      if (by === 'live') this.finish(call, 'ended', 'answered on the Live API');
    });
    call.expiry = setTimeout(() => {
      if (call.state === 'ringing') this.finish(call, 'expired', 'not accepted in time');
    }, this.opts.callExpiryMs);
    call.expiry.unref();
    const webhook = this.opts.webhook;
    if (webhook) {
      const delivery: Delivery = { webhookId: newWebhookId(), attempts: [], delivered: false };
      call.deliveries.push(delivery);
      const event = {
        object: 'event',
        id: newId('evt', 24),
        type: 'realtime.call.incoming',
        created_at: Math.floor(call.createdAt / 1000),
        data: { call_id: id, sip_headers: sipHeaders },
      };
      void deliverWebhook(webhook, event, delivery, this.ctx.log, () => this.stopped || call.state !== 'ringing');
    }
    return call;
  }

  accept(id: string, config: Partial<RealtimeSessionCreateRequest>): Call {
    const call = this.require(id);
    if (call.kind !== 'sip')
      throw new CallError(400, 'invalid_request', `Call ${id} is a WebRTC call; only SIP calls are accepted.`);
    if (call.state !== 'ringing')
      throw new CallError(409, 'call_not_ringing', `Call ${id} is ${call.state} and cannot be accepted.`);
    this.claimFor(call);
    clearTimeout(call.expiry);
    call.state = 'active';
    call.session = this.newSession(call, 'sip', config, false);
    return call;
  }

  reject(id: string, statusCode = 603): Call {
    const call = this.require(id);
    if (call.state !== 'ringing')
      throw new CallError(409, 'call_not_ringing', `Call ${id} is ${call.state} and cannot be rejected.`);
    this.claimFor(call);
    call.rejectStatus = statusCode;
    this.finish(call, 'rejected', `rejected with SIP ${statusCode}`);
    return call;
  }

  refer(id: string, targetUri: string): Call {
    const call = this.require(id);
    if (call.kind !== 'sip')
      throw new CallError(400, 'invalid_request', `Call ${id} is a WebRTC call; only SIP calls can be referred.`);
    if (call.state !== 'active' && call.state !== 'ringing')
      throw new CallError(409, 'call_ended', `Call ${id} is ${call.state}.`);
    if (call.state === 'ringing') this.claimFor(call);
    call.referredTo = targetUri;
    this.finish(call, 'referred', `referred to ${targetUri}`);
    return call;
  }

  /**
   * The caller presses keys on an active SIP call: one `input_audio_buffer.dtmf_event_received` per key, as the
   * service reports them (SIP only; a WebRTC call has no keypad signalling).
   */
  dtmf(id: string, keys: string): Call {
    const call = this.require(id);
    if (call.kind !== 'sip')
      throw new CallError(400, 'invalid_request', `Call ${id} is a WebRTC call; DTMF is only received on SIP calls.`);
    if (call.state !== 'active' || !call.session)
      throw new CallError(409, 'call_not_active', `Call ${id} is ${call.state}.`);
    for (const key of keys)
      call.session.emit({
        type: 'input_audio_buffer.dtmf_event_received',
        event: key,
        received_at: Math.floor(Date.now() / 1000),
      });
    return call;
  }

  hangup(id: string): Call {
    const call = this.require(id);
    if (call.state === 'ended' || call.state === 'rejected' || call.state === 'referred' || call.state === 'expired') {
      throw new CallError(409, 'call_ended', `Call ${id} has already ended (${call.state}).`);
    }
    this.finish(call, 'ended', 'hung up');
    return call;
  }

  /** Ends a call and everything attached to it: sockets close, the peer connection closes. */
  finish(call: Call, state: CallState, reason: string): void {
    if (call.state !== 'ringing' && call.state !== 'active') return;
    clearTimeout(call.expiry);
    call.state = state;
    call.endedReason = reason;
    call.endedAt = Date.now();
    call.session?.end(reason);
    void call.closeMedia?.().catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    for (const c of this.byId.values()) this.finish(c, 'ended', 'emulator stopped');
  }

  private claimFor(call: Call): void {
    if (call.claim && !call.claim.take('realtime'))
      throw new CallError(409, 'call_not_ringing', `Call ${call.id} is being answered on the Live API.`);
  }

  private require(id: string): Call {
    const call = this.byId.get(id);
    if (!call) throw new CallError(404, 'call_not_found', `No call with id '${id}'.`);
    return call;
  }

  private newSession(
    call: Call,
    kind: 'webrtc' | 'sip',
    config: Partial<RealtimeSessionCreateRequest> | undefined,
    ephemeral: boolean,
  ): RealtimeSession {
    const session = new RealtimeSession(this.ctx, {
      kind,
      model: config?.model ?? this.opts.defaultModel,
      config,
      ephemeral,
      callId: call.id,
    });
    session.onEnd((reason) => {
      if (call.state === 'active') this.finish(call, 'ended', reason);
    });
    return session;
  }
}
