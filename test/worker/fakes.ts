import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import type { AgentDefinition } from '../../shared/agents/schema';
import { withSessionReference } from '../../shared/calls/binding';
import { holdMessagesUntilListened } from '../../shared/providers/realtime-client';
import type { SessionEvent } from '../../shared/events/types';
import type { ToolCall, ToolGateway } from '../../shared/mcp/types';
import type { TranscriptItem } from '../../shared/memory/types';
import { createMemoryToolRunStore } from '../../shared/stores/tool-runs';
import type { HeartbeatBody, WorkerReport } from '../../shared/worker-client/api';
import { WorkerCore, type WorkerCoreDeps } from '../../worker/core';

/** Calls as the mint made them: call id → the session whose client secret created it (see attachBody). */
const mintedFor = new Map<string, string>();

/**
 * A sideband endpoint that records what each connection sends and lets the test push server events. Like the
 * service, it greets each connection with `session.created` showing the call's session as it is now: as minted
 * for its session, then as the last `session.update` left it.
 */
export class FakeRealtime {
  readonly conns = new Map<string, WebSocket[]>();
  readonly sessions = new Map<string, Record<string, unknown>>();
  readonly received = new Map<string, Record<string, unknown>[]>();
  readonly ended = new Set<string>();
  private constructor(
    readonly server: Server,
    readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeRealtime> {
    const server = createServer();
    const wss = new WebSocketServer({ noServer: true });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const fake = new FakeRealtime(server, wss, `ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('upgrade', (req, socket, head) => {
      const callId = new URL(req.url ?? '/', 'http://x').searchParams.get('call_id') ?? '';
      if (fake.ended.has(callId)) {
        socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => {
        fake.conns.set(callId, [...(fake.conns.get(callId) ?? []), ws]);
        const minted = mintedFor.get(callId);
        const session =
          fake.sessions.get(callId) ??
          ({ type: 'realtime', instructions: minted ? withSessionReference('help', minted) : 'help' } as Record<
            string,
            unknown
          >);
        fake.sessions.set(callId, session);
        ws.send(JSON.stringify({ type: 'session.created', event_id: 'evt_created', session }));
        ws.on('message', (d) => {
          const event = JSON.parse(d.toString()) as Record<string, unknown>;
          if (event.type === 'session.update')
            fake.sessions.set(callId, { ...fake.sessions.get(callId), ...(event.session as object) });
          fake.received.set(callId, [...(fake.received.get(callId) ?? []), event]);
        });
      });
    });
    return fake;
  }

  open = (callId: string): Promise<WebSocket> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`${this.url}/v1/realtime?call_id=${callId}`);
      // As the provider's client does: the greeting may arrive before the caller listens.
      holdMessagesUntilListened(ws);
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_q, res) =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })),
      );
      ws.once('error', reject);
    });

  /** Sends a server event to every open connection of the call. */
  push(callId: string, event: Record<string, unknown>) {
    for (const ws of this.conns.get(callId) ?? []) if (ws.readyState === 1) ws.send(JSON.stringify(event));
  }

  sent(callId: string, type?: string) {
    return (this.received.get(callId) ?? []).filter((e) => !type || e.type === type);
  }

  openCount(callId: string) {
    return (this.conns.get(callId) ?? []).filter((w) => w.readyState === 1).length;
  }

  /** Drops every connection of the call (a network blip); `end` also makes the call gone (404). */
  drop(callId: string, end = false) {
    if (end) this.ended.add(callId);
    for (const ws of this.conns.get(callId) ?? []) ws.terminate();
  }

  async stop() {
    for (const list of this.conns.values()) for (const ws of list) ws.terminate();
    this.wss.close();
    await new Promise<void>((r) => (this.server.closeAllConnections(), this.server.close(() => r())));
  }
}

export const agent = {
  id: 'support',
  displayName: 'Support',
  description: '',
  instructions: 'help',
  voice: 'alloy',
  outputModalities: ['audio'],
  turnDetection: { type: 'server_vad' },
  transcriptionModel: 'whisper-1',
  mcpServers: [],
  sip: { numbers: [] },
} as unknown as AgentDefinition;

export class FakeGateway implements ToolGateway {
  runs: ToolCall[] = [];
  delayMs = 0;
  /** Tools answered as read-only / idempotent (as the MCP gateway does from the server's annotations). */
  retrySafeTools = new Set<string>();
  async retrySafe(_a: AgentDefinition, name: string) {
    return this.retrySafeTools.has(name);
  }
  async toolsFor() {
    return [{ type: 'function' as const, name: 'get_order', parameters: { type: 'object', properties: {} } }];
  }
  async run(_a: AgentDefinition, call: ToolCall) {
    this.runs.push(call);
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    return { output: `{"order":"${call.arguments}","status":"shipped"}`, isError: false, durationMs: this.delayMs };
  }
}

export function fakeCore(fake: FakeRealtime, over: Partial<WorkerCoreDeps> = {}) {
  const appended: { partition: string; items: TranscriptItem[] }[] = [];
  const events: SessionEvent[] = [];
  const heartbeats: HeartbeatBody[] = [];
  const reports: { sessionId: string; report: WorkerReport }[] = [];
  const drop: string[] = [];
  const gateway = new FakeGateway();
  const toolRuns = createMemoryToolRunStore();
  const core = new WorkerCore({
    workerId: 'w-test',
    openSideband: fake.open,
    agents: { get: async (id) => (id === 'support' ? agent : undefined) },
    gateway,
    sessionConfig: (_agent, _tools, sessionId) => ({
      type: 'realtime',
      model: 'gpt-realtime',
      instructions: withSessionReference('help', sessionId),
    }),
    history: { append: async (partition, items) => void appended.push({ partition, items }) },
    publisher: { publish: async (e) => void events.push(e) },
    toolRuns,
    lifecycle: {
      heartbeats: async (b) => (heartbeats.push(b), { drop: b.sessionIds.filter((id) => drop.includes(id)) }),
      report: async (sessionId, report) => void reports.push({ sessionId, report }),
    },
    maxSessions: 10,
    heartbeatIntervalMs: 1000,
    reconnectDelaysMs: [20, 40],
    ...over,
  });
  return { core, appended, events, heartbeats, reports, drop, gateway, toolRuns };
}

export const attachBody = (sessionId: string, callId: string, attempt = 0) => {
  // The call was made with this session's client secret (first attach wins, as a real call has one session).
  if (!mintedFor.has(callId)) mintedFor.set(callId, sessionId);
  return attachOf(sessionId, callId, attempt);
};

const attachOf = (sessionId: string, callId: string, attempt: number) => ({
  sessionId,
  callId,
  agentId: 'support',
  userId: 'u1',
  transport: 'webrtc' as const,
  attempt,
  avoidWorkers: [],
});

export async function until(fn: () => boolean | Promise<boolean>, timeoutMs = 3000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not met in time');
}
