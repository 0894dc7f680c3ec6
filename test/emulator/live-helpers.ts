import type OpenAI from 'openai';
import { LiveWS } from 'openai/resources/live/ws';
import { SidebandWS } from 'openai/resources/live/sideband/ws';
import { pcmToBase64 } from '../../emulators/realtime/audio';
import { espeak } from '../../emulators/realtime/tts';
import { loopbackOnly } from '../../emulators/realtime/webrtc';
import { TestPeer } from './webrtc-peer';

export type LiveEvent = { type: string; [k: string]: unknown };

/** Records the events an SDK client (LiveWS, SidebandWS) or a data channel receives, and waits for one. */
export class Recorder {
  readonly events: LiveEvent[] = [];
  private waiters: { pred: (e: LiveEvent) => boolean; resolve: (e: LiveEvent) => void }[] = [];

  push(e: LiveEvent): void {
    this.events.push(e);
    this.waiters = this.waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true));
  }

  /** The first event of this type (after `from`) matching `pred`, already received or still to come. */
  waitFor(
    type: string,
    pred: (e: LiveEvent) => boolean = () => true,
    opts: { from?: number; timeoutMs?: number } = {},
  ): Promise<LiveEvent> {
    const match = (e: LiveEvent) => e.type === type && pred(e);
    const seen = this.events.slice(opts.from ?? 0).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`timed out waiting for ${type}; saw ${this.types().join(', ')}`)),
        opts.timeoutMs ?? 15_000,
      );
      this.waiters.push({ pred: match, resolve: (e) => (clearTimeout(t), resolve(e)) });
    });
  }

  types(from = 0): string[] {
    return this.events.slice(from).map((e) => e.type);
  }

  /** Joined `delta`s of one event type, e.g. the output transcript so far. */
  text(type: string, from = 0): string {
    return this.events
      .slice(from)
      .filter((e) => e.type === type)
      .map((e) => String(e.delta))
      .join('');
  }

  /** Waits until the joined deltas of `type` contain `needle`. */
  async until(type: string, needle: string, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const t = this.text(type);
      if (t.includes(needle)) return t;
      if (Date.now() > deadline) throw new Error(`no '${needle}' in ${type}: '${t}'; saw ${this.types().join(', ')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

type Emits = { on(event: 'event', fn: (e: LiveEvent) => void): unknown; on(event: 'error', fn: () => void): unknown };

function record(client: Emits): Recorder {
  const r = new Recorder();
  client.on('event', (e) => r.push(e));
  // Error events reach `event` too; without this listener the SDK turns them into unhandled rejections.
  client.on('error', () => {});
  return r;
}

/** The SDK's primary Live WebSocket, recorded. */
export function openLive(client: OpenAI): { ws: LiveWS; events: Recorder } {
  const ws = new LiveWS(client);
  return { ws, events: record(ws as unknown as Emits) };
}

/** The SDK's sideband, attached to a session by id, recorded. */
export async function attachSideband(client: OpenAI, sessionId: string): Promise<{ ws: SidebandWS; events: Recorder }> {
  const ws = new SidebandWS(client, { session_id: sessionId });
  const events = record(ws as unknown as Emits);
  await new Promise<void>((resolve, reject) => {
    const raw = ws.socket.platformSocket;
    if (raw.readyState === raw.OPEN) return resolve();
    raw.once('open', () => resolve());
    raw.once('unexpected-response', (_req, res) => reject(new Error(`sideband refused: HTTP ${res.statusCode}`)));
    raw.once('error', (err) => reject(err));
  });
  return { ws, events };
}

/** espeak speech of `text` with silence around it, as 100 ms `session.input_audio.append`s. */
export async function speechAppends(text: string): Promise<{ type: 'session.input_audio.append'; audio: string }[]> {
  const pcm = new Int16Array([...new Int16Array(2400), ...(await espeak(text)), ...new Int16Array(24_000)]);
  const out: { type: 'session.input_audio.append'; audio: string }[] = [];
  for (let i = 0; i < pcm.length; i += 2400)
    out.push({ type: 'session.input_audio.append', audio: pcmToBase64(pcm.subarray(i, i + 2400)) });
  return out;
}

/** A WebRTC peer recording its data channel, with its offer ready (ICE gathered, loopback candidates only). */
export async function offeringPeer(): Promise<{ peer: TestPeer; events: Recorder; sdp: string }> {
  const peer = new TestPeer();
  const events = new Recorder();
  peer.dc.onMessage.subscribe((m) => events.push(JSON.parse(m.toString()) as LiveEvent));
  await peer.pc.setLocalDescription(await peer.pc.createOffer());
  await new Promise<void>((r) =>
    peer.pc.iceGatheringState === 'complete'
      ? r()
      : peer.pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && r()),
  );
  return { peer, events, sdp: loopbackOnly(peer.pc.localDescription!.sdp) };
}

/** A browser stand-in whose offer goes through `client.live.create` (the backend's brokered SDP). */
export async function livePeer(
  client: OpenAI,
  session: Record<string, unknown>,
): Promise<{ peer: TestPeer; events: Recorder; sessionId: string }> {
  const { peer, events, sdp } = await offeringPeer();
  const created = await client.live.create({ session: session as never, transport: { type: 'webrtc', sdp } });
  await peer.pc.setRemoteDescription({ type: 'answer', sdp: created.transport.sdp });
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('data channel did not open')), 10_000);
    const check = () => peer.dc.readyState === 'open' && (clearTimeout(t), resolve());
    peer.dc.stateChanged.subscribe(check);
    check();
  });
  return { peer, events, sessionId: created.session.id };
}
