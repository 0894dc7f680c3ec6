import OpusScript from 'opusscript';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket, type RTCDataChannel } from 'werift';
import type { RealtimeServerEvent } from 'openai/resources/realtime/realtime';
import { loopbackOnly, loopbackPeerConfig, OPUS } from '../../emulators/realtime/webrtc';

/**
 * A browser stand-in built on werift: an audio track that sends Opus RTP (encoded here from PCM) and the
 * `oai-events` data channel, negotiated against `POST …/realtime/calls` exactly as a page would.
 */
export class TestPeer {
  readonly pc = new RTCPeerConnection(loopbackPeerConfig());
  readonly mic = new MediaStreamTrack({ kind: 'audio' });
  readonly dc: RTCDataChannel;
  readonly events: RealtimeServerEvent[] = [];
  rtpReceived = 0;
  callId = '';
  private readonly encoder = new OpusScript(24_000, 1, OpusScript.Application.VOIP);
  private seq = 1;
  private ts = 0;

  constructor() {
    this.pc.addTransceiver(this.mic, { direction: 'sendrecv' });
    this.dc = this.pc.createDataChannel('oai-events');
    this.dc.onMessage.subscribe((m) => this.events.push(JSON.parse(m.toString()) as RealtimeServerEvent));
    this.pc.onTrack.subscribe((t) => t.onReceiveRtp.subscribe(() => this.rtpReceived++));
  }

  /**
   * The model's answers as a page sees them on its data channel. Under Azure's `webrtcfilter=on` only the text and
   * transcript events pass (no `response.done`, no `response.output_item.done`), so tests read answers from these.
   */
  answers(): string[] {
    return this.events.flatMap((e) =>
      e.type === 'response.output_text.done'
        ? [e.text]
        : e.type === 'response.output_audio_transcript.done'
          ? [e.transcript]
          : [],
    );
  }

  async connect(callsUrl: string, key: string, body?: { session: unknown }): Promise<Response> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await new Promise<void>((r) =>
      this.pc.iceGatheringState === 'complete'
        ? r()
        : this.pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r()),
    );
    const offer = loopbackOnly(this.pc.localDescription!.sdp);
    let res: Response;
    if (body) {
      const form = new FormData();
      form.set('sdp', offer);
      form.set('session', JSON.stringify(body.session));
      res = await fetch(callsUrl, { method: 'POST', headers: { authorization: `Bearer ${key}` }, body: form });
    } else {
      res = await fetch(callsUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/sdp' },
        body: offer,
      });
    }
    if (res.status !== 201) return res;
    this.callId = /\/calls\/([^/]+)$/.exec(res.headers.get('location') ?? '')?.[1] ?? '';
    await this.pc.setRemoteDescription({ type: 'answer', sdp: await res.clone().text() });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('data channel did not open')), 10_000);
      const check = () => this.dc.readyState === 'open' && (clearTimeout(t), resolve());
      this.dc.stateChanged.subscribe(check);
      check();
    });
    return res;
  }

  /** The first data-channel event of this type, waiting for it if it has not arrived yet. */
  async event(type: RealtimeServerEvent['type'], timeoutMs = 5000): Promise<RealtimeServerEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.find((x) => x.type === type);
      if (e) return e;
      if (Date.now() > deadline) throw new Error(`no ${type} on the data channel`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  send(event: unknown): void {
    this.dc.send(JSON.stringify(event));
  }

  /** Sends PCM16 24 kHz as 20 ms Opus frames, `frameGapMs` apart (faster than real time is fine). */
  async speak(pcm: Int16Array, frameGapMs = 3): Promise<void> {
    const frame = 480;
    for (let i = 0; i < pcm.length; i += frame) {
      const chunk = new Int16Array(frame);
      chunk.set(pcm.subarray(i, i + frame));
      const payload = this.encoder.encode(Buffer.from(chunk.buffer), frame);
      this.mic.writeRtp(
        new RtpPacket(
          new RtpHeader({
            payloadType: OPUS.payloadType,
            sequenceNumber: this.seq++ & 0xffff,
            timestamp: this.ts,
            ssrc: 1234,
            marker: i === 0,
          }),
          payload,
        ),
      );
      this.ts += 960;
      await new Promise((r) => setTimeout(r, frameGapMs));
    }
  }

  async close(): Promise<void> {
    await this.pc.close();
    this.encoder.delete();
  }
}
