import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import type { FetchLike, WebSocketFactory } from '../../shared/providers/realtime-client';
import type { SessionConfig } from '../../shared/providers/types';

/** One outgoing request as a provider made it: what the recorded fixtures compare. */
export interface RecordedRequest {
  op: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
}

export const FIXTURE_SESSION: SessionConfig = {
  type: 'realtime',
  model: 'gpt-realtime',
  instructions: 'You are the fixture agent.',
  output_modalities: ['audio'],
  audio: { output: { voice: 'marin' } },
};

/** A fetch that records each request and answers like the GA service would for the path. */
export function recordingFetch(log: RecordedRequest[], op: () => string): FetchLike {
  return async (url, init) => {
    // The SDK's own headers (user agent, x-stainless-* runtime details) vary by machine, not by provider.
    const headers = Object.fromEntries(
      [...new Headers(init.headers).entries()].filter(
        ([k]) => k !== 'user-agent' && k !== 'accept' && !k.startsWith('x-stainless-'),
      ),
    );
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : undefined;
    log.push({ op: op(), method: init.method ?? 'GET', url, headers, ...(body === undefined ? {} : { body }) });
    if (url.endsWith('/client_secrets')) {
      return Response.json({ value: 'ek_fixture', expires_at: 1_900_000_000, session: { type: 'realtime' } });
    }
    return new Response(null, { status: 200 });
  };
}

/** A WebSocket factory that records the URL and headers and reports `open` at once. */
export function recordingWebSocket(log: RecordedRequest[], op: () => string): WebSocketFactory {
  return (url, headers) => {
    log.push({
      op: op(),
      method: 'GET (upgrade)',
      url,
      headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    });
    const fake = new EventEmitter() as unknown as WebSocket;
    setImmediate(() => (fake as unknown as EventEmitter).emit('open'));
    return fake;
  };
}
