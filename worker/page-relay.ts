import type { SessionEventPublisher } from '../shared/events/types';
import { pageEventOf } from '../shared/realtime/page-relay';
import type { AttachBody } from '../shared/worker-client/api';
import type { SidebandExtension } from './sideband';

export interface PageRelayOptions {
  publisher: SessionEventPublisher;
  /** Sessions whose page does not see these events itself (a filtered WebRTC data channel). */
  enabled(attach: AttachBody): boolean;
  now(): number;
  log(line: string): void;
}

/** Relays to the page, over Web PubSub, the server events its filtered data channel leaves out. */
export function pageRelay(opts: PageRelayOptions): SidebandExtension {
  return (ctx) => {
    if (!opts.enabled(ctx.attach)) return;
    return ctx.events.onAny((ev) => {
      const event = pageEventOf(ev);
      if (!event) return;
      void opts.publisher
        .publish({ type: 'realtime', sessionId: ctx.sessionId, event, at: opts.now() })
        .catch((err) =>
          opts.log(`relaying ${event.type} to the page of ${ctx.sessionId} failed: ${(err as Error).message}`),
        );
    });
  };
}

/** Whether a WebRTC URL asks the service to filter the page's data channel (Azure `webrtcfilter=on`). */
export function filtersDataChannel(webrtcUrl: string): boolean {
  try {
    return new URL(webrtcUrl).searchParams.get('webrtcfilter') === 'on';
  } catch {
    return false;
  }
}
