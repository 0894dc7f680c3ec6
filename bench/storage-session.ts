import { azuriteConnectionString } from '../dev/azurite';
import type { Stack } from '../dev/stack';
import { createTableLifecycleStore } from '../shared/lifecycle/session-partition';
import { createHistoryStore } from '../shared/memory/history-store';
import { TestPeer } from '../test/emulator/webrtc-peer';
import { waitUntil } from '../test/lifecycle/helpers';

/**
 * One complete browser session through the local stack, as the page does it: POST /api/sessions → WebRTC
 * offer with the ephemeral key → POST /api/sessions/{id}/call → the worker attaches → a typed turn that makes
 * the model call get_order → the caller hangs up → the lifecycle reaches `ended`. Observation (state, history)
 * reads Azurite directly, never through the counting proxy, so it adds nothing to the counts.
 */
export interface SessionOutcome {
  sessionId: string;
  callId: string;
  userId: string;
  ms: number;
  historyRows: number;
  /** When the session was seen live, hung up and ended (unix ms): phases for the counts. */
  marks: { liveAt: number; hangupAt: number; endedAt: number };
}

export function observer(stack: Stack) {
  const direct = { STORAGE_CONNECTION_STRING: azuriteConnectionString(stack.storage!.azurite.port) };
  return { lifecycle: createTableLifecycleStore(direct), history: createHistoryStore(direct) };
}

export async function webrtcSessionWithTool(stack: Stack, userId: string): Promise<SessionOutcome> {
  const t0 = Date.now();
  const api = stack.url('functions');
  const obs = observer(stack);
  const headers = { 'content-type': 'application/json', 'x-user-id': userId };
  const created = await fetch(`${api}/sessions`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ agentId: 'customer-support' }),
  });
  if (created.status !== 201) throw new Error(`POST /api/sessions answered ${created.status}: ${await created.text()}`);
  const { sessionId, clientSecret, webrtcUrl } = (await created.json()) as {
    sessionId: string;
    clientSecret: string;
    webrtcUrl: string;
  };
  const peer = new TestPeer();
  try {
    const offer = await peer.connect(webrtcUrl, clientSecret);
    if (offer.status !== 201) throw new Error(`WebRTC offer answered ${offer.status}`);
    const reg = await fetch(`${api}/sessions/${sessionId}/call`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ callId: peer.callId }),
    });
    if (reg.status !== 202) throw new Error(`call registration answered ${reg.status}: ${await reg.text()}`);
    await waitUntil('live', async () => (await obs.lifecycle.load(sessionId))?.record.state === 'live');
    const liveAt = Date.now();

    peer.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is my order 1234' }] },
    });
    peer.send({ type: 'response.create' });
    // A page's channel is filtered (webrtcfilter=on): the answer arrives as text/transcript, not output_item.done.
    await waitUntil('the answer with the tool output', async () => peer.answers().some((a) => a.includes('1234')));
    const hangupAt = Date.now();
    const hang = await fetch(`${stack.url('realtime emulator')}/openai/v1/realtime/calls/${peer.callId}/hangup`, {
      method: 'POST',
      headers: { 'api-key': stack.env.REALTIME_API_KEY ?? 'emulator-dev-key' },
    });
    if (!hang.ok) throw new Error(`hangup answered ${hang.status}`);
    await waitUntil('ended', async () => (await obs.lifecycle.load(sessionId))?.record.state === 'ended');
    const endedAt = Date.now();
    const rows = await waitUntil('user, tool and assistant rows', async () => {
      const r = await obs.history.forSession(`user:${userId}`, sessionId);
      return r.length >= 3 && r;
    });
    return {
      sessionId,
      callId: peer.callId,
      userId,
      ms: Date.now() - t0,
      historyRows: rows.length,
      marks: { liveAt, hangupAt, endedAt },
    };
  } finally {
    await peer.close();
  }
}
