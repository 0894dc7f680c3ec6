import type { WebSocket } from 'ws';

/** What a message carries, as the service names it (`dataType` in the JSON subprotocol). */
export type DataType = 'json' | 'text' | 'binary';
export interface Payload {
  dataType: DataType;
  /** Raw bytes as sent to REST (or decoded from a client message). */
  bytes: Buffer;
}

export interface Connection {
  id: string;
  hub: string;
  userId?: string;
  roles: string[];
  groups: Set<string>;
  /** `json` speaks json.webpubsub.azure.v1 (or its reliable variant); `simple` only receives raw data. */
  kind: 'json' | 'simple';
  /** The current socket; a recovered reliable connection gets a new one. */
  socket: WebSocket;
  ackIds: Set<number>;
  /** json.reliable.webpubsub.azure.v1: numbered messages kept until acked, so a dropped socket can recover. */
  reliable?: ReliableState;
  /** Closed by the server (REST close): never recovered. */
  closedByServer?: boolean;
}

export interface ReliableState {
  reconnectionToken: string;
  lastSequenceId: number;
  unacked: { sequenceId: number; frame: string }[];
  /** Pending removal while the client may still recover. */
  expiry?: ReturnType<typeof setTimeout>;
}

/** Messages a reliable connection may hold unacked before it is dropped as too slow. */
export const MAX_UNACKED = 1000;

type Source = { from: 'group'; group: string; fromUserId?: string } | { from: 'server' };

/** Connections and groups of every hub; hubs exist as soon as they are named, as in the service. */
export class Hubs {
  private readonly connections = new Map<string, Connection>();
  private readonly groups = new Map<string, Set<Connection>>();

  private key = (hub: string, group: string) => `${hub.toLowerCase()}\u0000${group}`;

  add(c: Connection) {
    this.connections.set(c.id, c);
  }

  remove(c: Connection) {
    for (const g of c.groups) this.leave(c, g);
    this.connections.delete(c.id);
  }

  connection(hub: string, id: string): Connection | undefined {
    const c = this.connections.get(id);
    return c && c.hub.toLowerCase() === hub.toLowerCase() ? c : undefined;
  }

  inHub(hub: string): Connection[] {
    return [...this.connections.values()].filter((c) => c.hub.toLowerCase() === hub.toLowerCase());
  }

  ofUser(hub: string, userId: string): Connection[] {
    return this.inHub(hub).filter((c) => c.userId === userId);
  }

  inGroup(hub: string, group: string): Connection[] {
    return [...(this.groups.get(this.key(hub, group)) ?? [])];
  }

  join(c: Connection, group: string) {
    const k = this.key(c.hub, group);
    let set = this.groups.get(k);
    if (!set) this.groups.set(k, (set = new Set()));
    set.add(c);
    c.groups.add(group);
  }

  leave(c: Connection, group: string) {
    const k = this.key(c.hub, group);
    const set = this.groups.get(k);
    set?.delete(c);
    if (set && set.size === 0) this.groups.delete(k);
    c.groups.delete(group);
  }

  /** Delivers to each target in the shape its protocol expects; returns how many sockets were written. */
  deliver(
    targets: Iterable<Connection>,
    payload: Payload,
    source: Source,
    exclude: ReadonlySet<string> = new Set(),
  ): number {
    let n = 0;
    for (const c of targets) {
      if (exclude.has(c.id)) continue;
      const open = c.socket.readyState === c.socket.OPEN;
      if (c.reliable) {
        // Numbered and kept until acked, whether or not a socket is attached right now.
        const sequenceId = ++c.reliable.lastSequenceId;
        const frame = JSON.stringify({
          sequenceId,
          type: 'message',
          ...source,
          dataType: payload.dataType,
          data: decode(payload),
        });
        c.reliable.unacked.push({ sequenceId, frame });
        if (c.reliable.unacked.length > MAX_UNACKED) {
          this.close([c], 'the client did not acknowledge messages in time');
          continue;
        }
        if (open) c.socket.send(frame);
      } else if (!open) {
        continue;
      } else if (c.kind === 'simple') {
        c.socket.send(payload.bytes, { binary: payload.dataType === 'binary' });
      } else {
        c.socket.send(
          JSON.stringify({ type: 'message', ...source, dataType: payload.dataType, data: decode(payload) }),
        );
      }
      n++;
    }
    return n;
  }

  /** A reliable client confirmed everything up to `sequenceId`. */
  acked(c: Connection, sequenceId: number) {
    if (c.reliable) c.reliable.unacked = c.reliable.unacked.filter((m) => m.sequenceId > sequenceId);
  }

  close(targets: Iterable<Connection>, reason: string | undefined, exclude: ReadonlySet<string> = new Set()) {
    for (const c of targets) {
      if (exclude.has(c.id)) continue;
      c.closedByServer = true;
      if (c.reliable?.expiry) {
        clearTimeout(c.reliable.expiry);
        this.remove(c);
      }
      if (c.kind === 'json' && c.socket.readyState === c.socket.OPEN) {
        c.socket.send(
          JSON.stringify({ type: 'system', event: 'disconnected', message: reason ?? 'closed by the server' }),
        );
      }
      c.socket.close(1000, (reason ?? '').slice(0, 120));
    }
  }

  all(): Connection[] {
    return [...this.connections.values()];
  }
}

/** The `data` field of a JSON-subprotocol message: parsed JSON, a string, or base64 for binary. */
export function decode(p: Payload): unknown {
  if (p.dataType === 'binary') return p.bytes.toString('base64');
  const text = p.bytes.toString('utf8');
  return p.dataType === 'json' ? JSON.parse(text) : text;
}

/** The REST content type decides the data type, as in the service. */
export function dataTypeOf(contentType: string | undefined): DataType | undefined {
  const ct = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (ct === 'application/json') return 'json';
  if (ct === 'text/plain') return 'text';
  if (ct === 'application/octet-stream') return 'binary';
  return undefined;
}
