import { UserFacingError } from './failures';

/** A server event from the `oai-events` data channel (GA names); only `type` is relied on everywhere. */
export type ServerEvent = { type: string; event_id?: string; [k: string]: unknown };

export interface CallOptions {
  /**
   * Where the SDP offer goes. Realtime: the service's `/calls` URL with the short-lived ek_ secret (the only
   * credential this page ever holds). Live: the backend itself, which creates the session and answers; the page
   * holds no credential and learns no call id.
   */
  offer: { webrtcUrl: string; clientSecret: string } | { exchange: (sdp: string) => Promise<string> };
  /** The microphone; without one the call is receive-only and the person types. */
  mic?: MediaStream;
  audio: HTMLAudioElement;
  onEvent: (ev: ServerEvent) => void;
  /**
   * The call went away without the page asking: `network` when the connection itself failed (worth resuming
   * automatically), `remote` when the service closed the call while the network was fine.
   */
  onDropped: (reason: string, kind: 'network' | 'remote') => void;
}

const CHANNEL_OPEN_TIMEOUT_MS = 15_000;
const ICE_GATHER_TIMEOUT_MS = 2_000;

/** One WebRTC call to the realtime service: mic track out, model audio in, events over `oai-events`. */
export class RealtimeCall {
  private closing = false;

  private constructor(
    readonly pc: RTCPeerConnection,
    readonly channel: RTCDataChannel,
    readonly callId: string,
    private readonly mic: MediaStream | undefined,
  ) {}

  static async connect(opts: CallOptions): Promise<RealtimeCall> {
    const pc = new RTCPeerConnection();
    let settled = false;
    try {
      pc.ontrack = (e) => {
        opts.audio.srcObject = e.streams[0] ?? new MediaStream([e.track]);
        void opts.audio.play().catch(() => {
          /* autoplay is allowed after the Start click; if not, the audio element's own controls remain */
        });
      };
      const track = opts.mic?.getAudioTracks()[0];
      if (track && opts.mic) pc.addTrack(track, opts.mic);
      else pc.addTransceiver('audio', { direction: 'recvonly' });
      const channel = pc.createDataChannel('oai-events');

      await pc.setLocalDescription(await pc.createOffer());
      await iceGathered(pc);
      const offer = pc.localDescription!.sdp;
      const { sdp, callId } =
        'exchange' in opts.offer
          ? { sdp: await opts.offer.exchange(offer), callId: '' }
          : await postOffer(opts.offer.webrtcUrl, opts.offer.clientSecret, offer);
      await pc.setRemoteDescription({ type: 'answer', sdp });
      await channelOpen(channel, pc);

      const call = new RealtimeCall(pc, channel, callId, opts.mic);
      channel.onmessage = (m) => {
        try {
          opts.onEvent(JSON.parse(String(m.data)) as ServerEvent);
        } catch {
          /* a frame that is not JSON is not an event */
        }
      };
      const dropped = (reason: string, kind: 'network' | 'remote') => {
        if (!call.closing) {
          call.closing = true;
          opts.onDropped(reason, kind);
        }
      };
      // `disconnected` can heal by itself; only a lasting one counts as a drop.
      let disconnectTimer: ReturnType<typeof setTimeout> | undefined;
      pc.onconnectionstatechange = () => {
        clearTimeout(disconnectTimer);
        if (pc.connectionState === 'failed') dropped('the network connection failed', 'network');
        if (pc.connectionState === 'disconnected') {
          disconnectTimer = setTimeout(() => dropped('the network connection was lost', 'network'), 4000);
        }
      };
      // The channel closing while the network is fine means the service ended the call.
      channel.onclose = () => {
        if (pc.connectionState === 'connected') dropped('the service closed the call', 'remote');
      };
      settled = true;
      return call;
    } finally {
      if (!settled) pc.close();
    }
  }

  send(event: Record<string, unknown>): boolean {
    if (this.channel.readyState !== 'open') return false;
    this.channel.send(JSON.stringify(event));
    return true;
  }

  setMuted(muted: boolean) {
    for (const t of this.mic?.getAudioTracks() ?? []) t.enabled = !muted;
  }

  /** Barge-in from the page: stop generating, and drop audio already queued for playback. */
  interrupt() {
    this.send({ type: 'response.cancel' });
    this.send({ type: 'output_audio_buffer.clear' });
  }

  /** Bytes of model audio received so far (inbound-rtp), for the diagnostics line and the tests. */
  async audioBytesReceived(): Promise<number> {
    let bytes = 0;
    (await this.pc.getStats()).forEach((s: { type: string; kind?: string; bytesReceived?: number }) => {
      if (s.type === 'inbound-rtp' && s.kind === 'audio') bytes += s.bytesReceived ?? 0;
    });
    return bytes;
  }

  close() {
    this.closing = true;
    try {
      this.channel.close();
    } catch {
      /* already closed */
    }
    this.pc.close();
  }
}

function iceGathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      if (pc.iceGatheringState !== 'complete') return;
      pc.removeEventListener('icegatheringstatechange', done);
      resolve();
    };
    pc.addEventListener('icegatheringstatechange', done);
    // Candidates found so far are enough: the service is reachable directly or through its own candidates.
    setTimeout(resolve, ICE_GATHER_TIMEOUT_MS);
  });
}

async function postOffer(url: string, secret: string, offer: string): Promise<{ sdp: string; callId: string }> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/sdp' },
      body: offer,
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError')
      throw new UserFacingError('realtime_timeout', 'The realtime service did not answer within 15 s.');
    throw new UserFacingError('realtime_unreachable', `Cannot reach the realtime service at ${new URL(url).origin}.`);
  }
  const body = await res.text();
  if (res.status === 401 || res.status === 403) {
    throw new UserFacingError(
      'token_refused',
      'The realtime service refused the session token (it lives only a minute and may have expired). Press Start to try again.',
    );
  }
  if (!res.ok) {
    let detail = '';
    try {
      detail = (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? '';
    } catch {
      /* not JSON */
    }
    throw new UserFacingError(
      'realtime_error',
      `The realtime service answered ${res.status}${detail ? `: ${detail}` : ''}.`,
    );
  }
  const location = res.headers.get('location');
  const callId = location?.split('?')[0]?.split('/').filter(Boolean).pop();
  if (!callId) {
    throw new UserFacingError(
      'no_call_id',
      'The realtime service did not return a call id (Location header), so the backend cannot join the call.',
    );
  }
  return { sdp: body, callId };
}

function channelOpen(channel: RTCDataChannel, pc: RTCPeerConnection): Promise<void> {
  if (channel.readyState === 'open') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new UserFacingError('media_failed', why));
    };
    const timer = setTimeout(
      () =>
        fail(
          'The audio connection could not be established in time (a firewall may block WebRTC). Try again or use another network.',
        ),
      CHANNEL_OPEN_TIMEOUT_MS,
    );
    channel.addEventListener('open', () => (clearTimeout(timer), resolve()), { once: true });
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed') fail('The audio connection failed (a firewall may block WebRTC).');
    });
  });
}
