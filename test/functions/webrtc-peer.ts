import { MediaStreamTrack, RTCPeerConnection, type RTCDataChannel } from 'werift';
import { loopbackOnly, loopbackPeerConfig } from '../../emulators/realtime/webrtc';

/**
 * The browser's side of `POST /api/sessions`: a werift peer with an audio track and the `oai-events` data
 * channel that offers SDP to the returned webrtcUrl with the ek_ key, exactly as web/ does.
 */
export class BrowserPeer {
  readonly pc = new RTCPeerConnection(loopbackPeerConfig());
  readonly dc: RTCDataChannel;
  readonly events: Record<string, unknown>[] = [];
  callId = '';

  constructor() {
    this.pc.addTransceiver(new MediaStreamTrack({ kind: 'audio' }), { direction: 'sendrecv' });
    this.dc = this.pc.createDataChannel('oai-events');
    this.dc.onMessage.subscribe((m) => this.events.push(JSON.parse(m.toString()) as Record<string, unknown>));
  }

  /** Returns the SDP POST's response; on 201 the call id (from Location) is set and the data channel open. */
  async call(webrtcUrl: string, key: string): Promise<Response> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await new Promise<void>((r) =>
      this.pc.iceGatheringState === 'complete' ? r() : this.pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r()),
    );
    const res = await fetch(webrtcUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/sdp' },
      body: loopbackOnly(this.pc.localDescription!.sdp),
    });
    if (res.status !== 201) return res;
    this.callId = /\/calls\/([^/?]+)$/.exec(res.headers.get('location') ?? '')?.[1] ?? '';
    await this.pc.setRemoteDescription({ type: 'answer', sdp: await res.clone().text() });
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('data channel did not open')), 10_000);
      const check = () => this.dc.readyState === 'open' && (clearTimeout(t), resolve());
      this.dc.stateChanged.subscribe(check);
      check();
    });
    return res;
  }

  async event(type: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.find((x) => x.type === type);
      if (e) return e;
      if (Date.now() > deadline) throw new Error(`no ${type} on the data channel`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): Promise<void> {
    return this.pc.close();
  }
}
