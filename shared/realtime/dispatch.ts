import type { ServerEvent, ServerEventOf, ServerEventType } from './events';

type Handler<E> = (event: E) => void;

/**
 * Fans one session's server events out to the modules that care (response gate, transcripts, tool calls,
 * the session lock, telemetry). Handlers run synchronously in subscription order; one that throws is reported
 * and does not stop the others.
 */
export class ServerEventBus {
  private readonly byType = new Map<string, Handler<never>[]>();
  private readonly any: Handler<ServerEvent>[] = [];

  constructor(private readonly onHandlerError: (err: unknown, type: string) => void = () => {}) {}

  /** Subscribes to one event type; returns the unsubscribe. */
  on<T extends ServerEventType>(type: T, handler: Handler<ServerEventOf<T>>): () => void {
    const list = this.byType.get(type) ?? [];
    list.push(handler as Handler<never>);
    this.byType.set(type, list);
    return () => {
      const at = list.indexOf(handler as Handler<never>);
      if (at >= 0) list.splice(at, 1);
    };
  }

  /** Subscribes to every event, unknown ones included. */
  onAny(handler: Handler<ServerEvent>): () => void {
    this.any.push(handler);
    return () => {
      const at = this.any.indexOf(handler);
      if (at >= 0) this.any.splice(at, 1);
    };
  }

  emit(event: ServerEvent): void {
    for (const h of [...(this.byType.get(event.type) ?? [])]) this.call(h as Handler<ServerEvent>, event);
    for (const h of [...this.any]) this.call(h, event);
  }

  private call(h: Handler<ServerEvent>, event: ServerEvent) {
    try {
      h(event);
    } catch (err) {
      this.onHandlerError(err, event.type);
    }
  }
}
