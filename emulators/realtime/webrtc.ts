import OpusScript from 'opusscript';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
  RtpHeader,
  RtpPacket,
  type RTCDataChannel,
} from 'werift';
import { RATE } from './audio';
import type { EmulatorContext, Sink } from './context';
import { WEBRTC_FILTERED_EVENTS } from './profile';
import { newId } from './protocol';
import type { RealtimeSession } from './session';

/** Opus at 48 kHz on the wire (payload type 111, as browsers and the service use); 20 ms frames. */
export const OPUS = { payloadType: 111, clockRate: 48_000, frameMs: 20 } as const;
const FRAME_SAMPLES_24K = (RATE * OPUS.frameMs) / 1000; // 480
const RTP_TICKS_PER_FRAME = (OPUS.clockRate * OPUS.frameMs) / 1000; // 960
const CONNECT_TIMEOUT_MS = 30_000;

/**
 * ICE only on loopback: the emulator's peers are on this machine, and no packet should go anywhere else.
 * werift skips loopback interfaces when it gathers, so 127.0.0.1 is added and every other candidate dropped.
 */
export function loopbackPeerConfig(): ConstructorParameters<typeof RTCPeerConnection>[0] {
  return {
    codecs: {
      audio: [
        new RTCRtpCodecParameters({
          mimeType: 'audio/opus',
          clockRate: OPUS.clockRate,
          channels: 2,
          payloadType: OPUS.payloadType,
        }),
      ],
      video: [],
    },
    iceUseIpv6: false,
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    iceFilterCandidatePair: (pair) => pair.remoteCandidate.host.startsWith('127.'),
  };
}

/** Removes every ICE candidate line that is not on loopback. */
export function loopbackOnly(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((l) => !l.startsWith('a=candidate:') || / 127\.\d+\.\d+\.\d+ /.test(l))
    .join('\r\n');
}

/**
 * Answers a browser-style offer: audio in (Opus → PCM 24 kHz → the session's buffer and VAD), assistant
 * audio out as Opus RTP paced in real time, and the `oai-events` data channel as one more event sink.
 */
export async function answerOffer(
  offer: string,
  session: RealtimeSession,
  ctx: EmulatorContext,
  opts: { filterEvents?: boolean; onChannel?: (dc: RTCDataChannel) => void } = {},
): Promise<{ sdp: string; close(): Promise<void> }> {
  if (!/^v=0/m.test(offer) || !/m=audio /.test(offer)) throw new Error('the offer has no audio m-line');
  const pc = new RTCPeerConnection(loopbackPeerConfig());
  const outTrack = new MediaStreamTrack({ kind: 'audio' });
  pc.addTransceiver(outTrack, { direction: 'sendrecv' });
  const decoder = new OpusScript(RATE, 1, OpusScript.Application.VOIP);
  const encoder = new OpusScript(RATE, 1, OpusScript.Application.VOIP);
  let closed = false;

  pc.onTrack.subscribe((track) => {
    track.onReceiveRtp.subscribe((rtp) => {
      if (closed || rtp.payload.length === 0) return;
      try {
        const pcm = decoder.decode(rtp.payload);
        session.appendAudio(new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length >> 1).slice());
      } catch {
        // A corrupt packet is dropped, as a jitter buffer would.
      }
    });
  });

  pc.onDataChannel.subscribe((dc) => {
    if (dc.label !== 'oai-events') return;
    // A Live session speaks its own protocol on the channel; the media leg is the same.
    if (opts.onChannel) return opts.onChannel(dc);
    attachChannel(dc, session, ctx, opts.filterEvents ?? false);
  });

  let seq = Math.floor(Math.random() * 65535);
  let ts = Math.floor(Math.random() * 2 ** 31);
  const ssrc = Math.floor(Math.random() * 2 ** 31);
  session.media = {
    async play(pcm, isCancelled) {
      const start = Date.now();
      for (let i = 0, n = 0; i < pcm.length && !closed && !isCancelled(); i += FRAME_SAMPLES_24K, n++) {
        const frame = new Int16Array(FRAME_SAMPLES_24K);
        frame.set(pcm.subarray(i, i + FRAME_SAMPLES_24K));
        const payload = encoder.encode(Buffer.from(frame.buffer), FRAME_SAMPLES_24K);
        const header = new RtpHeader({
          payloadType: OPUS.payloadType,
          sequenceNumber: seq,
          timestamp: ts >>> 0,
          ssrc,
          marker: n === 0,
        });
        seq = (seq + 1) & 0xffff;
        ts = (ts + RTP_TICKS_PER_FRAME) % 2 ** 32;
        outTrack.writeRtp(new RtpPacket(header, payload));
        // Real-time pacing: a peer's jitter buffer expects 20 ms frames every 20 ms.
        const due = start + (n + 1) * OPUS.frameMs;
        await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
      }
    },
  };

  const close = async () => {
    if (closed) return;
    closed = true;
    session.media = undefined;
    await pc.close().catch(() => undefined);
    decoder.delete();
    encoder.delete();
  };
  // An answer nobody connects to (the page went away mid-negotiation) should not keep a session for an hour.
  const connectTimer = setTimeout(() => session.end('the peer never connected'), CONNECT_TIMEOUT_MS);
  connectTimer.unref();
  pc.connectionStateChange.subscribe((state) => {
    if (state === 'connected') clearTimeout(connectTimer);
    if (state === 'failed' || state === 'closed' || state === 'disconnected') session.end(`peer ${state}`);
  });
  session.onEnd(() => clearTimeout(connectTimer));
  session.onEnd(() => void close());

  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  await waitForGathering(pc);
  // Browsers send a DTLS close_notify when the page closes its peer connection; werift reports it here only.
  for (const t of pc.dtlsTransports) {
    t.onStateChange.subscribe((state) => {
      if (state === 'closed' || state === 'failed') session.end(`peer DTLS ${state}`);
    });
  }
  return { sdp: loopbackOnly(pc.localDescription!.sdp), close };
}

function attachChannel(
  dc: RTCDataChannel,
  session: RealtimeSession,
  ctx: EmulatorContext,
  filterEvents: boolean,
): void {
  const sink: Sink = {
    id: newId('conn'),
    kind: 'datachannel',
    // The browser's channel holds whatever the call was opened with.
    principal: session.opts.ephemeral
      ? { kind: 'ephemeral', key: '', session: session.config, expiresAt: 0 }
      : { kind: 'api-key' },
    send: (json) => {
      if (dc.readyState !== 'open') return;
      if (filterEvents && !WEBRTC_FILTERED_EVENTS.has((JSON.parse(json) as { type: string }).type)) return;
      dc.send(json);
    },
    close: () => dc.close(),
  };
  dc.onMessage.subscribe((data) =>
    session.handleMessage(sink, typeof data === 'string' ? data : data.toString('utf8')),
  );
  dc.stateChanged.subscribe((s) => {
    if (s !== 'closed') return;
    session.sinks.delete(sink);
    // A page ends a call by closing its channel and peer connection: the service hangs up then too.
    session.end('peer closed the data channel');
  });
  const open = () => session.attach(sink);
  if (dc.readyState === 'open') open();
  else dc.stateChanged.subscribe((s) => s === 'open' && open());
  ctx.log(`realtime emulator: data channel open for ${session.callId}`);
}

function waitForGathering(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, 2000);
    pc.iceGatheringStateChange.subscribe((s) => {
      if (s === 'complete') {
        clearTimeout(t);
        resolve();
      }
    });
  });
}
