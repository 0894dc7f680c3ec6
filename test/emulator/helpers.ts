import WebSocket from 'ws';
import type { RealtimeClientEvent, RealtimeServerEvent } from 'openai/resources/realtime/realtime';

/** A raw `ws` client that records every server event and can wait for one. */
export class RawClient {
  readonly events: RealtimeServerEvent[] = [];
  private waiters: { pred: (e: RealtimeServerEvent) => boolean; resolve: (e: RealtimeServerEvent) => void }[] = [];
  closed?: { code: number; reason: string };

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const e = JSON.parse(d.toString()) as RealtimeServerEvent;
      this.events.push(e);
      this.waiters = this.waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true));
    });
    ws.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  static open(url: string, headers: Record<string, string>): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const c = new RawClient(ws);
      ws.once('open', () => resolve(c));
      ws.once('unexpected-response', (_req, res) =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })),
      );
      ws.once('error', reject);
    });
  }

  send(e: RealtimeClientEvent | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(e));
  }

  sendRaw(s: string): void {
    this.ws.send(s);
  }

  /** The first event (already received or future, after `from`) of this type matching `pred`. */
  waitFor<T extends RealtimeServerEvent['type']>(
    type: T,
    pred: (e: Extract<RealtimeServerEvent, { type: T }>) => boolean = () => true,
    opts: { from?: number; timeoutMs?: number } = {},
  ): Promise<Extract<RealtimeServerEvent, { type: T }>> {
    type E = Extract<RealtimeServerEvent, { type: T }>;
    const match = (e: RealtimeServerEvent): e is E => e.type === type && pred(e as E);
    const seen = this.events.slice(opts.from ?? 0).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`timed out waiting for ${type}; saw ${this.events.map((e) => e.type).join(', ')}`)),
        opts.timeoutMs ?? 10_000,
      );
      this.waiters.push({ pred: match, resolve: (e) => (clearTimeout(t), resolve(e as E)) });
    });
  }

  types(from = 0): string[] {
    return this.events.slice(from).map((e) => e.type);
  }

  close(): void {
    this.ws.close();
  }
}

/** The realtime WebSocket URL: Azure's `/openai/v1` path (the emulator's default profile) or OpenAI's `/v1`. */
export const wsUrl = (httpUrl: string, query: string, profile: 'azure-openai' | 'openai' = 'azure-openai') =>
  `${httpUrl.replace(/^http/, 'ws')}${profile === 'azure-openai' ? '/openai' : ''}/v1/realtime?${query}`;
