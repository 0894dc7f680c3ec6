import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAzurite, type Azurite } from '../../dev/azurite';
import type { SessionConfig } from '../../shared/providers/types';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import { signWebhook } from '../../shared/webhooks/standard-webhooks';
import { recordingProvider, type RecordingProvider } from '../functions/fake-provider';
import { postJson, startHarness, TABLES, WEBHOOK_SECRET, type Harness } from '../functions/harness';

const OFFER = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n';
const nowS = () => Math.floor(Date.now() / 1000);

/** The recording double as a Live provider: brokers SDP, has no client secrets. */
function liveDouble(): RecordingProvider & { brokered: { session: SessionConfig; sdp: string }[] } {
  const base = recordingProvider();
  const brokered: { session: SessionConfig; sdp: string }[] = [];
  let n = 0;
  return Object.assign(base, {
    name: 'live' as const,
    capabilities: { webrtc: true, sip: true, clientSecrets: false, sideband: true },
    brokered,
    async startWebrtcSession(session: SessionConfig, sdp: string) {
      brokered.push({ session, sdp });
      return { callId: `live_${++n}`, sdp: 'v=0\r\nanswer\r\n' };
    },
  });
}

function incoming(type: 'live.transport.incoming' | 'realtime.call.incoming', id: string, to: string) {
  const sip_headers = [
    { name: 'From', value: '"Caller" <sip:+14155550123@pstn.example.com>;tag=1' },
    { name: 'To', value: `<sip:${to}@sip.api.openai.com>` },
  ];
  return JSON.stringify({
    object: 'event',
    id: `evt_${id}`,
    type,
    created_at: nowS(),
    data:
      type === 'live.transport.incoming' ? { type: 'sip', session_id: id, sip_headers } : { call_id: id, sip_headers },
  });
}

describe('a deployment on the Live provider', () => {
  let azurite: Azurite;
  let h: Harness;
  let provider: ReturnType<typeof liveDouble>;
  beforeAll(async () => {
    azurite = await startAzurite();
    provider = liveDouble();
    h = await startHarness({ azurite, provider: () => provider });
  });
  afterAll(async () => {
    await h?.stop();
    await azurite?.stop();
  });
  const signed = (body: string, id = `wh_${randomUUID()}`, secret = WEBHOOK_SECRET) =>
    fetch(`${h.api}/webhooks/realtime`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signWebhook(secret, id, nowS(), body) },
      body,
    });

  it('tells the page to bring its SDP offer', async () => {
    const agents = (await (await fetch(`${h.api}/agents`)).json()) as { agents: { connect: string }[] };
    expect(agents.agents.length).toBeGreaterThan(0);
    expect(new Set(agents.agents.map((a) => a.connect))).toEqual(new Set(['sdp']));
  });

  it('creates the Live session from the page’s offer and binds its id to our session at once', async () => {
    const res = await postJson(
      `${h.api}/sessions`,
      { agentId: 'customer-support', sdp: OFFER },
      { 'x-user-id': 'ada' },
    );
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ sdp: 'v=0\r\nanswer\r\n', resumed: false, agent: { id: 'customer-support' } });
    // No credential and no service id reaches the page.
    expect(Object.keys(body).sort()).toEqual(['agent', 'resumed', 'sdp', 'sessionId']);
    const sessionId = String(body.sessionId);
    const [made] = provider.brokered;
    expect(made!.sdp).toBe(OFFER);
    const agent = (await h.deps.agents.get('customer-support'))!;
    expect(made!.session.instructions).toContain(agent.instructions);
    expect((made!.session.tools ?? []).length).toBeGreaterThan(0);
    const [row] = (await h.rows(TABLES.sessions)).filter((r) => r.partitionKey === sessionId);
    expect(row).toMatchObject({ transport: 'webrtc', userId: 'ada', callId: 'live_1', state: 'requested' });
    expect(h.signals.filter((s) => s.sessionId === sessionId).map((s) => s.op)).toMatchObject([
      { type: 'requested', transport: 'webrtc' },
      { type: 'callRegistered', callId: 'live_1' },
    ]);
    // The page cannot point the session at another call afterwards.
    const again = await postJson(
      `${h.api}/sessions/${sessionId}/call`,
      { callId: 'live_other' },
      { 'x-user-id': 'ada' },
    );
    expect(again.status).toBe(409);
  });

  it('refuses a start without an offer and an offer that is not SDP', async () => {
    const none = await postJson(`${h.api}/sessions`, { agentId: 'concierge' }, { 'x-user-id': 'bo' });
    expect(none.status).toBe(400);
    expect(await none.json()).toMatchObject({ error: { code: 'sdp_required' } });
    const bad = await postJson(`${h.api}/sessions`, { agentId: 'concierge', sdp: 'hello' }, { 'x-user-id': 'bo' });
    expect(bad.status).toBe(400);
    expect(provider.brokered.filter((b) => b.sdp === 'hello')).toEqual([]);
  });

  it('answers live.transport.incoming once per delivery and leaves the Realtime offer of the call alone', async () => {
    const liveId = 'live_sip_once';
    const body = incoming('live.transport.incoming', liveId, '+18005550100');
    const first = await signed(body, 'wh_live_once');
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: 'accepted', agentId: 'customer-support', callId: liveId });
    const retry = await signed(body, 'wh_live_once');
    expect(await retry.json()).toMatchObject({ status: 'duplicate' });
    expect(provider.calls.filter((c) => c.op === 'accept' && c.callId === liveId)).toHaveLength(1);
    const sessionId = sessionIdForCall(liveId);
    const [row] = (await h.rows(TABLES.sessions)).filter((r) => r.partitionKey === sessionId);
    expect(row).toMatchObject({ transport: 'sip', callId: liveId, sipTo: '+18005550100' });
    expect(h.signals.filter((s) => s.sessionId === sessionId).map((s) => s.op.type)).toEqual(['requested', 'accepted']);

    // The same ringing call offered on the Realtime surface: neither accepted nor rejected (the first accept decides).
    const rtc = await signed(incoming('realtime.call.incoming', 'rtc_same_call', '+18005550100'));
    expect(await rtc.json()).toMatchObject({ status: 'ignored', callId: 'rtc_same_call' });
    expect(provider.calls.filter((c) => c.callId === 'rtc_same_call')).toEqual([]);
  });

  it('verifies the signature first and rejects unrouted numbers on its own surface only', async () => {
    const forged = await signed(
      incoming('live.transport.incoming', 'live_forged', '+18005550100'),
      'wh_f',
      'whsec_' + 'A'.repeat(32),
    );
    expect(forged.status).toBe(401);
    expect(provider.calls.filter((c) => c.callId === 'live_forged')).toEqual([]);
    const malformed = await signed(
      JSON.stringify({ id: 'evt_m', type: 'live.transport.incoming', created_at: nowS(), data: {} }),
    );
    expect(malformed.status).toBe(400);
    const nobody = await signed(incoming('live.transport.incoming', 'live_nobody', '+19995550000'));
    expect(await nobody.json()).toMatchObject({ status: 'rejected', sipStatus: 404 });
    const nobodyRtc = await signed(incoming('realtime.call.incoming', 'rtc_nobody', '+19995550000'));
    expect(await nobodyRtc.json()).toMatchObject({ status: 'ignored' });
    expect(provider.calls.filter((c) => c.callId === 'rtc_nobody')).toEqual([]);
  });
});

describe('a deployment on a Realtime provider', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ provider: () => recordingProvider() });
  });
  afterAll(async () => h?.stop());

  it('refuses an SDP offer (the page gets a token instead) and ignores Live’s incoming-call webhook', async () => {
    const res = await postJson(`${h.api}/sessions`, { agentId: 'concierge', sdp: OFFER }, { 'x-user-id': 'cy' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'sdp_not_brokered' } });
    const body = incoming('live.transport.incoming', 'live_elsewhere', '+18005550100');
    const wh = await fetch(`${h.api}/webhooks/realtime`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signWebhook(WEBHOOK_SECRET, 'wh_else', nowS(), body) },
      body,
    });
    expect(await wh.json()).toMatchObject({ status: 'ignored' });
  });
});
