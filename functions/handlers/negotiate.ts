import type { HttpHandler, HttpRequest } from '@azure/functions';
import type { WebPubSubServiceClient } from '@azure/web-pubsub';
import { z } from 'zod';
import { sessionGroup } from '../../shared/events/webpubsub';
import type { Authenticator } from '../../shared/auth/index';
import { HttpError, validationError } from '../../shared/http/errors';
import type { SessionStore } from '../../shared/stores/sessions';
import { ownedSession } from './session-owner';
import { ok } from '../edge';

/** Minutes a client URL stays valid for connecting; the page negotiates again on every reconnect. */
export const CLIENT_TOKEN_MINUTES = 15;

export interface NegotiateDeps {
  /** Undefined when Web PubSub is not configured: negotiate answers 503 and the page runs without push. */
  webPubSub?: WebPubSubServiceClient;
  /** Authenticates the caller and checks they own the session; throws an HttpError (401/403/404) otherwise. */
  authorizeSessionOwner: (req: HttpRequest, sessionId: string) => Promise<{ userId: string }>;
}

const query = z.object({
  sessionId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'letters, digits, _ or -, at most 128'),
});

/**
 * GET /api/negotiate?sessionId=… — a Web PubSub client URL for the session's owner. The token joins the
 * session's group on connect and may join or leave only that group; it cannot send, so a page can read its
 * own session's events and nothing else.
 */
export const negotiateHandler =
  (deps: NegotiateDeps): HttpHandler =>
  async (req) => {
    const parsed = query.safeParse({ sessionId: req.query.get('sessionId') ?? undefined });
    if (!parsed.success) throw validationError(parsed.error, 'query');
    const { sessionId } = parsed.data;
    const { userId } = await deps.authorizeSessionOwner(req, sessionId);
    if (!deps.webPubSub)
      throw new HttpError(503, 'push_unavailable', 'live session updates are not configured on this deployment');
    const group = sessionGroup(sessionId);
    let url: string;
    try {
      ({ url } = await deps.webPubSub.getClientAccessToken({
        userId,
        groups: [group],
        roles: [`webpubsub.joinLeaveGroup.${group}`],
        expirationTimeInMinutes: CLIENT_TOKEN_MINUTES,
      }));
    } catch {
      // Keyless tokens come from the service's REST API; its failure is the service's, not the caller's.
      throw new HttpError(502, 'push_unavailable', 'could not obtain a Web PubSub client token');
    }
    return ok({ url });
  };

/** The owner check over the session store; anyone else gets 404, as GET /api/sessions/{id} answers. */
export const sessionOwnerCheck =
  (deps: {
    authenticate: Authenticator;
    sessions: Pick<SessionStore, 'get'>;
  }): NegotiateDeps['authorizeSessionOwner'] =>
  async (req, sessionId) => {
    const caller = await deps.authenticate(req.headers);
    await ownedSession(deps.sessions, sessionId, caller.userId);
    return { userId: caller.userId };
  };
