import type { HttpHandler } from '@azure/functions';
import { z } from 'zod';
import { HttpError, notFound } from '../../shared/http/errors';
import type { AppDeps } from '../deps';
import { isStorageStatus } from '../../shared/storage/tables';
import { ownedSession, sessionIdParam } from './session-owner';
import { ok, readJson } from '../edge';

export const registerCallBody = z.strictObject({
  /** From the `Location` header of the WebRTC SDP answer (`/v1/realtime/calls/{call_id}`). */
  callId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, 'a realtime call id'),
});

/** POST /api/sessions/{id}/call — the browser reports its call id; the lifecycle attaches the sideband. */
export const registerCallHandler =
  (deps: Pick<AppDeps, 'config' | 'authenticate' | 'sessions' | 'lifecycle'>): HttpHandler =>
  async (req, ctx) => {
    const caller = await deps.authenticate(req.headers);
    const id = sessionIdParam.safeParse(req.params.id);
    if (!id.success) throw notFound('session');
    const { callId } = registerCallBody.parse(await readJson(req, deps.config.MAX_BODY_BYTES));
    const row = await ownedSession(deps.sessions, id.data, caller.userId);
    if (row.transport === 'sip')
      throw new HttpError(409, 'not_a_browser_session', 'phone sessions are attached by the webhook');
    if (row.callId && row.callId !== callId) {
      throw new HttpError(409, 'call_already_registered', 'this session already has a call');
    }
    if (!row.callId) {
      try {
        await deps.sessions.update(row.sessionId, { callId }, row.etag);
      } catch (err) {
        // Another registration won the race between our read and write.
        if (isStorageStatus(err, 412)) {
          throw new HttpError(409, 'call_already_registered', 'this session changed meanwhile; read it again');
        }
        throw err;
      }
    }
    await deps.lifecycle.port(ctx).signal(row.sessionId, { type: 'callRegistered', callId, at: Date.now() });
    return ok({ sessionId: row.sessionId, callId }, 202);
  };
