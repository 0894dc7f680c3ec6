import type WebSocket from 'ws';
import { carriesSessionReference } from '../shared/calls/binding';

/** The call on the sideband was not made for the session being attached: nothing may be sent on it. */
export class CallNotBoundError extends Error {
  constructor(readonly reason: string) {
    super(`the call does not belong to this session: ${reason}`);
    this.name = 'CallNotBoundError';
  }
}

export interface VerifiedSideband {
  /** Messages that arrived after `session.created`, in order: hand them to the session's own listener. */
  later: string[];
  /** Stops collecting; call once the session's own message listener is in place. */
  release(): void;
}

/**
 * Reads what the service says about the call before the worker says anything on it: the first event on a
 * sideband is `session.created`, the session as it is now. It must carry our session's reference (set by the
 * mint or the SIP accept), or the call is someone else's and the socket is closed untouched. This must be the
 * socket's first `message` listener: the provider holds earlier messages until one is added.
 */
export function verifyCallBinding(ws: WebSocket, sessionId: string, timeoutMs = 10_000): Promise<VerifiedSideband> {
  return new Promise((resolve, reject) => {
    const later: string[] = [];
    let verified = false;
    const cleanup = () => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
    };
    const fail = (reason: string) => {
      cleanup();
      ws.close(1000);
      reject(new CallNotBoundError(reason));
    };
    const onMessage = (data: WebSocket.RawData) => {
      const text = data.toString();
      // Several events can arrive in one read: everything after session.created is kept for the session.
      if (verified) return void later.push(text);
      let event: { type?: unknown; session?: unknown };
      try {
        event = JSON.parse(text) as typeof event;
      } catch {
        return fail('the first sideband message is not JSON');
      }
      if (event.type !== 'session.created') return fail(`the first sideband event is ${String(event.type)}`);
      if (!carriesSessionReference(event.session, sessionId)) return fail('session.created names another session');
      verified = true;
      clearTimeout(timer);
      ws.off('close', onClose);
      resolve({ later, release: () => ws.off('message', onMessage) });
    };
    const onClose = () => fail('the sideband closed before session.created');
    const timer = setTimeout(() => fail('no session.created in time'), timeoutMs);
    ws.on('message', onMessage);
    ws.on('close', onClose);
  });
}
