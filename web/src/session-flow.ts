import type { Api, SessionGrant } from './api';
import { RealtimeCall, type CallOptions } from './call';
import { describe, UserFacingError } from './failures';
import { progress } from './ui';

export interface OpenCall {
  agentId: string;
  resumeSessionId?: string;
  /** The agent's provider brokers the SDP (GET /api/agents `connect: 'sdp'`, Live). */
  brokered: boolean;
  /** The session as soon as the backend has created it. */
  onGrant(grant: SessionGrant): void;
}

/**
 * A session and its WebRTC call, in the flow the agent's provider takes. Realtime: the backend mints an ephemeral
 * key, the page posts its offer to the service and reports the call id it gets back. Live: the offer goes to the
 * backend, which creates the session with its own credential and answers; the call is bound there and then.
 */
export async function openCall(
  api: Api,
  o: OpenCall,
  media: Omit<CallOptions, 'offer'>,
): Promise<{ grant: SessionGrant; call: RealtimeCall }> {
  let grant: SessionGrant | undefined;
  const granted = (g: SessionGrant) => {
    grant = g;
    o.onGrant(g);
    return g;
  };
  if (!o.brokered) granted(await api.createSession(o.agentId, o.resumeSessionId));
  progress('Connecting audio…');
  const call = await RealtimeCall.connect({
    ...media,
    offer: o.brokered
      ? { exchange: async (sdp) => granted(await api.createSession(o.agentId, o.resumeSessionId, sdp)).sdp ?? '' }
      : { webrtcUrl: grant!.webrtcUrl ?? '', clientSecret: grant!.clientSecret ?? '' },
  });
  // The ephemeral key has done its job; nothing keeps it around.
  grant!.clientSecret = '';
  if (!o.brokered) {
    progress('Joining the backend to the call…');
    await api.reportCall(grant!.sessionId, call.callId).catch((err: unknown) => {
      call.close();
      throw new UserFacingError(
        'call_not_joined',
        `The backend could not join the call, so tools will not work. ${describe(err)}`,
      );
    });
  }
  return { grant: grant!, call };
}
