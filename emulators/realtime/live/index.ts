import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocketServer } from 'ws';
import { RATE } from '../audio';
import type { KeyStore } from '../auth';
import type { CallState, SurfaceClaim } from '../calls';
import type { EmulatorContext } from '../context';
import { HttpFailure } from '../rest';
import { callSummary, transcriptLine, type CallSummary, type SessionSummary } from '../summary';
import { espeak, toneFor } from '../tts';
import type { WebhookTarget } from '../webhooks';
import { delegationTools } from './engine';
import { handleLiveRest } from './http';
import { LiveService, type LiveCallState } from './service';
import { handleLiveUpgrade } from './upgrade';

export interface LiveSurface {
  service: LiveService;
  /** Serves `route` (the path with any `/openai` prefix removed) if it is a Live route; false otherwise. */
  handleRest(req: IncomingMessage, res: ServerResponse, url: URL, route: string): Promise<boolean>;
  handleUpgrade(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    url: URL,
    route: string,
    refuse: (status: number, code: string, message: string) => void,
  ): void;
  simulateIncomingSipCall(
    o: { from: string; to: string; headers?: { name: string; value: string }[] },
    twin?: { claim: SurfaceClaim; sipHeaders: { name: string; value: string }[] },
  ): { callId: string };
  simulateCallerSpeech(sessionId: string, text: string, o?: { realTime?: boolean }): Promise<void>;
  sessions(): (SessionSummary & { delegation: string; closeReason?: string })[];
  calls(): CallSummary[];
  /** The `drop` fault: closes the WebSockets (primary, sidebands) of the matching Live sessions. */
  dropSockets(drop: { callId?: string; sessionId?: string; code?: number }): void;
  stop(): void;
}

const callState = (s: LiveCallState): CallState => (s === 'closed' ? 'ended' : s);

export function createLiveSurface(
  ctx: EmulatorContext,
  keys: KeyStore,
  wss: WebSocketServer,
  opts: { webhook?: WebhookTarget; callExpiryMs: number; usageIntervalMs?: number },
): LiveSurface {
  const service = new LiveService(ctx, opts);
  return {
    service,
    async handleRest(req, res, url, route) {
      if (!route.startsWith('/v1/live/')) return false;
      await handleLiveRest(service, keys, req, res, url, route);
      return true;
    },
    handleUpgrade(req, socket, head, url, route, refuse) {
      handleLiveUpgrade(service, keys, wss, req, socket, head, url, route, refuse);
    },
    simulateIncomingSipCall: (o, twin) => ({ callId: service.incomingSip(o, twin).id }),
    async simulateCallerSpeech(sessionId, text, o = {}) {
      const s = service.get(sessionId);
      if (!s || s.closed) throw new HttpFailure(404, 'call_not_found', `No active Live session '${sessionId}'.`);
      const speech = await espeak(text).catch(() => toneFor(text));
      await s.engine.injectAudio(
        new Int16Array([...new Int16Array(RATE / 5), ...speech, ...new Int16Array(RATE)]),
        o.realTime,
      );
    },
    sessions: () =>
      [...service.sessions.values()].map((s) => ({
        id: s.id,
        kind: s.transport === 'websocket' ? 'direct' : s.transport,
        callId: s.transport === 'websocket' ? undefined : s.id,
        callState: s.closed ? 'ended' : 'active',
        model: s.resource.model,
        instructions: s.resource.instructions ?? '',
        tools: delegationTools(ctx, s.resource),
        connections: s.sinks.size,
        eventsSent: s.eventsSent,
        ended: s.closed !== undefined,
        transcript: s.engine.items.map(transcriptLine),
        delegation: s.delegations.mode,
        closeReason: s.closed,
      })),
    calls: () => [
      ...[...service.sip.values()].map((c) => callSummary({ ...c, kind: 'sip', state: callState(c.state) })),
      ...[...service.sessions.values()]
        .filter((s) => s.transport === 'webrtc')
        .map((s) => ({
          id: s.id,
          kind: 'webrtc' as const,
          state: (s.closed ? 'ended' : 'active') as CallState,
          sipHeaders: [],
          endedReason: s.closed,
          webhooks: [],
          sessionId: s.id,
        })),
    ],
    dropSockets(drop) {
      for (const s of service.sessions.values()) {
        const id = drop.sessionId ?? drop.callId;
        if (id && s.id !== id) continue;
        for (const sink of [...s.sinks])
          if (sink.role !== 'datachannel') sink.close(drop.code ?? 1011, 'connection dropped (fault injection)');
      }
    },
    stop: () => service.stop(),
  };
}
