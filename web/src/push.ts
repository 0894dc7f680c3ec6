import { WebPubSubClient } from '@azure/web-pubsub-client';
import type { SessionEvent } from '../../shared/events/types';

/** What the backend pushes, one type for both ends (type-only: nothing from shared/ is bundled). */
export type PushEvent = SessionEvent;

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
