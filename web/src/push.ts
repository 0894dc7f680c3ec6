import { WebPubSubClient } from '@azure/web-pubsub-client';

/** What the backend pushes (shared/events/types.ts SessionEvent), as this page reads it. */
export type PushEvent =
  | { type: 'state'; sessionId: string; state: string; at: number; reason?: string }
  | { type: 'tool.started'; sessionId: string; callId: string; name: string; arguments: string; at: number }
  | {
      type: 'tool.finished';
      sessionId: string;
      callId: string;
      name: string;
      summary: string;
      output?: string;
      isError: boolean;
      durationMs: number;
      at: number;
    }
  | { type: 'transcript'; sessionId: string; itemId: string; role: 'user' | 'assistant'; text: string; at: number };

export interface PushHandlers {
  onEvent: (e: PushEvent) => void;
  onStatus: (connected: boolean, detail?: string) => void;
}

/**
 * Subscribes to one session's group. The negotiate URL is fetched again on every (re)connect, so a token
 * that expired during a long call is replaced; the group is joined by the token itself.
 */
export async function subscribe(negotiate: () => Promise<string>, group: string, h: PushHandlers): Promise<() => void> {
  const client = new WebPubSubClient(
    { getClientAccessUrl: negotiate },
    // The reliable subprotocol (the SDK's default): a short network blip recovers the same connection and
    // replays what was sent meanwhile; past that, a new connection is negotiated and joins by its token.
    { autoRejoinGroups: false, reconnectRetryOptions: { maxRetries: 5, retryDelayInMs: 1000 } },
  );
  client.on('group-message', (e) => {
    if (e.message.group === group && e.message.dataType === 'json') h.onEvent(e.message.data as PushEvent);
  });
  client.on('connected', () => h.onStatus(true));
  client.on('disconnected', (e) => h.onStatus(false, e.message?.toString()));
  await client.start();
  return () => client.stop();
}
