import { DefaultAzureCredential } from '@azure/identity';
import { WebPubSubServiceClient } from '@azure/web-pubsub';
import type { CommonConfig } from '../config/index';
import { noopPublisher, type SessionEvent, type SessionEventPublisher } from './types';

export type WebPubSubConfig = Pick<
  CommonConfig,
  'WEBPUBSUB_ENDPOINT' | 'WEBPUBSUB_CONNECTION_STRING' | 'WEBPUBSUB_HUB' | 'AZURE_CLIENT_ID'
>;

/** One group per session: a client token scoped to it can join nothing else. */
export const sessionGroup = (sessionId: string) => `session-${sessionId}`;

/**
 * The service client, keyless (managed identity) when WEBPUBSUB_ENDPOINT is set, else from the connection
 * string (the local emulator). Undefined when neither is configured.
 */
export function createWebPubSubClient(config: WebPubSubConfig): WebPubSubServiceClient | undefined {
  if (config.WEBPUBSUB_ENDPOINT) {
    const credential = new DefaultAzureCredential(
      config.AZURE_CLIENT_ID ? { managedIdentityClientId: config.AZURE_CLIENT_ID } : {},
    );
    return new WebPubSubServiceClient(config.WEBPUBSUB_ENDPOINT, credential, config.WEBPUBSUB_HUB);
  }
  if (config.WEBPUBSUB_CONNECTION_STRING) {
    // The local emulator is plain http; the SDK refuses that unless told.
    const insecure = /Endpoint=http:\/\//i.test(config.WEBPUBSUB_CONNECTION_STRING);
    return new WebPubSubServiceClient(config.WEBPUBSUB_CONNECTION_STRING, config.WEBPUBSUB_HUB, {
      allowInsecureConnection: insecure,
    });
  }
  return undefined;
}

export interface PublisherOptions {
  /** Called when a publish fails; the default drops the error (the push is best effort). */
  onError?: (err: unknown, event: SessionEvent) => void;
  /** Upper bound for one send, so a slow service never holds up a tool call. */
  timeoutMs?: number;
}

/**
 * Publishes session events to the session's group. Pushes are best effort: the transcript and tool results
 * are persisted elsewhere, so a failed push is reported through `onError` and never thrown into the caller.
 */
export function createPublisher(config: WebPubSubConfig, opts: PublisherOptions = {}): SessionEventPublisher {
  const client = createWebPubSubClient(config);
  if (!client) return noopPublisher;
  const timeoutMs = opts.timeoutMs ?? 3000;
  return {
    async publish(event) {
      try {
        await client.group(sessionGroup(event.sessionId)).sendToAll(event as unknown as Record<string, unknown>, {
          abortSignal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        opts.onError?.(err, event);
      }
    },
  };
}
