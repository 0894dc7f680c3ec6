import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import WebSocket, { WebSocketServer } from 'ws';
import { withSessionReference } from '../shared/calls/binding';

/**
 * The measuring end of the tool-call overhead bench: a tiny realtime server speaking GA events. It sends a
 * function call to a connection as the service does (response.created, output_item.added, then in one burst
 * function_call_arguments.done, output_item.done, response.done) and times from just before the
 * `function_call_arguments.done` frame is written to the moment both the matching `function_call_output`
 * item and a `response.create` have come back. The tool reports its own time inside its output
 * (`{"toolMs":…}`), which is subtracted. Every handler under test is measured by this same code.
 */
export interface Sample {
  /** Overhead in ms: round trip minus the tool's own time. */
  overheadMs: number;
  toolMs: number;
}

interface Pending {
  callId: string;
  sentAt: number;
  outputAt?: number;
  toolMs?: number;
  done: (s: Sample) => void;
}

export interface MeasuringServer {
  url: string;
  connections(): number;
  /** Resolves once `n` connections are open. */
  waitForConnections(n: number, timeoutMs?: number): Promise<void>;
  /** Sends one function call to connection `i`; resolves with its sample once output + response.create arrived. */
  fire(i: number): Promise<Sample>;
  /** Protocol errors seen (a handler that sends response.create without the output, or garbage). */
  errors: string[];
  /** Every client event received, by type (frames per tool call tell the handlers apart too). */
  received: Record<string, number>;
  close(): Promise<void>;
}

let seq = 0;
const id = (p: string) => `${p}_${(++seq).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

export async function startMeasuringServer(): Promise<MeasuringServer> {
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server });
  const conns: WebSocket[] = [];
  const pending = new Map<WebSocket, Pending>();
  const errors: string[] = [];
  const received: Record<string, number> = {};

  wss.on('connection', (ws, req) => {
    conns.push(ws);
    // The worker bench attaches session bench-N to call rtc_bench_N: the call carries that session's reference.
    const callId = new URL(req.url ?? '/', 'http://x').searchParams.get('call_id') ?? '';
    const bound = /^rtc_bench_(\d+)$/.exec(callId);
    const sessionId = id('sess');
    ws.send(
      JSON.stringify({
        type: 'session.created',
        event_id: id('event'),
        session: {
          type: 'realtime',
          id: sessionId,
          object: 'realtime.session',
          model: 'gpt-realtime',
          output_modalities: ['audio'],
          instructions: bound ? withSessionReference('', `bench-${bound[1]}`) : '',
          tools: [],
          tool_choice: 'auto',
        },
      }),
    );
    ws.on('message', (data) => {
      const now = performance.now();
      let ev: { type?: string; item?: { type?: string; call_id?: string; output?: string } };
      try {
        ev = JSON.parse(data.toString());
      } catch {
        errors.push('non-JSON frame');
        return;
      }
      received[ev.type ?? '?'] = (received[ev.type ?? '?'] ?? 0) + 1;
      if (ev.type === 'session.update') {
        ws.send(
          JSON.stringify({
            type: 'session.updated',
            event_id: id('event'),
            session: { type: 'realtime', id: sessionId },
          }),
        );
        return;
      }
      const p = pending.get(ws);
      if (!p) return;
      if (
        ev.type === 'conversation.item.create' &&
        ev.item?.type === 'function_call_output' &&
        ev.item.call_id === p.callId
      ) {
        p.outputAt = now;
        try {
          p.toolMs = Number((JSON.parse(ev.item.output ?? '{}') as { toolMs?: number }).toolMs ?? 0);
        } catch {
          p.toolMs = 0;
        }
        ws.send(
          JSON.stringify({
            type: 'conversation.item.added',
            event_id: id('event'),
            item: { id: id('item'), ...ev.item, object: 'realtime.item' },
          }),
        );
        return;
      }
      if (ev.type === 'response.create') {
        if (p.outputAt === undefined) {
          // The handler's "one moment" line for a slow tool path: answered like the service, not the sample's end.
          received['response.create (progress)'] = (received['response.create (progress)'] ?? 0) + 1;
        } else {
          pending.delete(ws);
          const toolMs = p.toolMs ?? 0;
          p.done({ overheadMs: now - p.sentAt - toolMs, toolMs });
        }
        // Answer like the service so the handler's response bookkeeping stays truthful.
        const rid = id('resp');
        ws.send(
          JSON.stringify({
            type: 'response.created',
            event_id: id('event'),
            response: { id: rid, object: 'realtime.response', status: 'in_progress', output: [] },
          }),
        );
        ws.send(
          JSON.stringify({
            type: 'response.done',
            event_id: id('event'),
            response: { id: rid, object: 'realtime.response', status: 'completed', output: [] },
          }),
        );
      }
    });
  });

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/realtime`;

  return {
    url,
    errors,
    received,
    connections: () => conns.filter((c) => c.readyState === WebSocket.OPEN).length,
    async waitForConnections(n, timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      while (conns.filter((c) => c.readyState === WebSocket.OPEN).length < n) {
        if (Date.now() > end) throw new Error(`only ${conns.length} of ${n} connections opened`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    fire(i) {
      const ws = conns[i]!;
      const rid = id('resp');
      const itemId = id('item');
      const callId = id('call');
      const args = JSON.stringify({ order_id: '1234' });
      const call = {
        id: itemId,
        object: 'realtime.item',
        type: 'function_call',
        name: 'get_order',
        call_id: callId,
        arguments: args,
      };
      ws.send(
        JSON.stringify({
          type: 'response.created',
          event_id: id('event'),
          response: { id: rid, object: 'realtime.response', status: 'in_progress', output: [] },
        }),
      );
      ws.send(
        JSON.stringify({
          type: 'response.output_item.added',
          event_id: id('event'),
          response_id: rid,
          output_index: 0,
          item: { ...call, status: 'in_progress', arguments: '' },
        }),
      );
      const burst = [
        JSON.stringify({
          type: 'response.function_call_arguments.done',
          event_id: id('event'),
          response_id: rid,
          item_id: itemId,
          output_index: 0,
          call_id: callId,
          name: 'get_order',
          arguments: args,
        }),
        JSON.stringify({
          type: 'response.output_item.done',
          event_id: id('event'),
          response_id: rid,
          output_index: 0,
          item: { ...call, status: 'completed' },
        }),
        JSON.stringify({
          type: 'response.done',
          event_id: id('event'),
          response: {
            id: rid,
            object: 'realtime.response',
            status: 'completed',
            output: [{ ...call, status: 'completed' }],
          },
        }),
      ];
      return new Promise<Sample>((done) => {
        pending.set(ws, { callId, sentAt: performance.now(), done });
        for (const f of burst) ws.send(f);
      });
    },
    async close() {
      for (const c of conns) c.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
