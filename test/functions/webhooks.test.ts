import { randomUUID } from 'node:crypto';
import { InvocationContext } from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DELIVERY_RETENTION_MS, retentionTimer } from '../../functions/timers/retention';
import { sessionIdForCall } from '../../shared/webhooks/sip';
import { signWebhook } from '../../shared/webhooks/standard-webhooks';
import { recordingProvider, type RecordingProvider } from './fake-provider';
import { startHarness, TABLES, WEBHOOK_SECRET, type Harness } from './harness';

const nowS = () => Math.floor(Date.now() / 1000);

function incomingCall(callId: string, to: string, from = '+14155550123') {
  return JSON.stringify({
    object: 'event',
    id: `evt_${callId}`,
    type: 'realtime.call.incoming',
    created_at: nowS(),
    data: {
      call_id: callId,
      sip_headers: [
        { name: 'From', value: `"Caller" <sip:${from}@pstn.example.com>;tag=9fxced76sl` },
        { name: 'To', value: `<sip:${to}@sip.api.openai.com>` },
        { name: 'Call-ID', value: `${callId}@pstn.example.com` },
      ],
    },
  });
}

/** POST /api/webhooks/realtime through the local runner on Azurite, the provider recorded. */
describe('realtime webhook function', () => {
  let h: Harness;
  let provider: RecordingProvider;
  beforeAll(async () => {
    provider = recordingProvider();
    h = await startHarness({ provider: () => provider });
  });
  afterAll(async () => h?.stop());

  const deliver = (body: string, headers: Record<string, string>) =>
    fetch(`${h.api}/webhooks/realtime`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const signed = (body: string, id = `wh_${randomUUID()}`, ts = nowS(), secret = WEBHOOK_SECRET) =>
    deliver(body, signWebhook(secret, id, ts, body));
  const rowsFor = async (table: string, key: string) => (await h.rows(table)).filter((r) => r.partitionKey === key);

  it('accepts a routed SIP call once even when the same delivery arrives three times', async () => {
    const callId = 'rtc_sip_once';
    const body = incomingCall(callId, '+18005550100');
    const id = 'wh_three_times';
    const first = await signed(body, id);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ status: 'accepted', agentId: 'customer-support', callId });
    // Two retries (fresh timestamps, as a sender's retry carries), one of them concurrent with a third copy.
    const retries = await Promise.all([signed(body, id), signed(body, id)]);
    for (const r of retries) {
      expect(r.status).toBe(200);
      expect(await r.json()).toMatchObject({ status: 'duplicate' });
    }
    const accepts = provider.calls.filter((c) => c.op === 'accept' && c.callId === callId);
    expect(accepts).toHaveLength(1);
    const agent = (await h.deps.agents.get('customer-support'))!;
    expect(accepts[0]!.session).toMatchObject({ instructions: expect.stringContaining(agent.instructions) });
    // Tools come from the agent's MCP allow-list (the built-in server on this same runner), plus the call-control
    // tools its definition asks for (a phone call gets `transfer_call`).
    const names = (accepts[0]!.session!.tools ?? []).map((t) => ('name' in t ? t.name : t.type));
    const mcp = names.filter((n) => n !== 'handoff' && n !== 'transfer_call');
    expect(mcp.length).toBeGreaterThan(0);
    expect(mcp.every((n) => agent.mcpServers.some((s) => s.allowedTools.some((a) => n?.endsWith(a))))).toBe(true);
    expect(names).toEqual(expect.arrayContaining(['handoff', 'transfer_call']));
    const sessionId = sessionIdForCall(callId);
    // One session row and, beside it in its partition, the local lifecycle's one record.
    const rows = await rowsFor(TABLES.sessions, sessionId);
    expect(rows.map((r) => r.rowKey).sort()).toEqual(['', 'lifecycle']);
    expect(rows.find((r) => r.rowKey === '')).toMatchObject({
      transport: 'sip',
      historyPartition: 'sip:+14155550123',
      callId,
      sipTo: '+18005550100',
    });
    expect((await rowsFor(TABLES.webhooks, id))[0]).toMatchObject({ status: 'processed', outcome: 'accepted' });
    const ops = h.signals.filter((s) => s.sessionId === sessionId).map((s) => s.op.type);
    expect(ops).toEqual(['requested', 'accepted']);
  });

  it('processes concurrent copies of a first delivery once (the others are told to retry, then see a duplicate)', async () => {
    const body = incomingCall('rtc_race', '+18005550199');
    const copies = await Promise.all([1, 2, 3].map(() => signed(body, 'wh_race')));
    const statuses = await Promise.all(
      copies.map(async (r) => [r.status, (await r.json()).status ?? (await Promise.resolve('error'))]),
    );
    expect(statuses.filter(([s, st]) => s === 200 && st === 'accepted')).toHaveLength(1);
    for (const [s] of statuses) expect([200, 409]).toContain(s);
    expect(await (await signed(body, 'wh_race')).json()).toMatchObject({ status: 'duplicate' });
    expect(provider.calls.filter((c) => c.op === 'accept' && c.callId === 'rtc_race')).toHaveLength(1);
  });

  it('rejects a call to a number no agent answers with SIP 404', async () => {
    const res = await signed(incomingCall('rtc_nobody', '+19995550000'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'rejected', sipStatus: 404 });
    expect(provider.calls.filter((c) => c.callId === 'rtc_nobody')).toEqual([
      { op: 'reject', callId: 'rtc_nobody', statusCode: 404 },
    ]);
    expect(await rowsFor(TABLES.sessions, sessionIdForCall('rtc_nobody'))).toHaveLength(0);
  });

  it('refuses forged, stale and malformed deliveries with 400/401 and writes nothing', async () => {
    const before = {
      sessions: (await h.rows(TABLES.sessions)).length,
      deliveries: (await h.rows(TABLES.webhooks)).length,
    };
    const calls = provider.calls.length;
    const body = incomingCall('rtc_evil', '+18005550100');
    const forgedSecret = `whsec_${Buffer.from('not-the-real-secret').toString('base64')}`;
    const cases: [string, Promise<Response>, number, string][] = [
      ['forged', signed(body, 'wh_forged', nowS(), forgedSecret), 401, 'webhook_signature_invalid'],
      ['stale', signed(body, 'wh_stale', nowS() - 600), 401, 'webhook_stale'],
      [
        'tampered',
        deliver(body.replace('+18005550100', '+18005550199'), signWebhook(WEBHOOK_SECRET, 'wh_t', nowS(), body)),
        401,
        'webhook_signature_invalid',
      ],
      ['unsigned', deliver(body, {}), 400, 'webhook_headers_missing'],
      [
        'bad timestamp',
        deliver(body, { ...signWebhook(WEBHOOK_SECRET, 'wh_ts', nowS(), body), 'webhook-timestamp': 'now' }),
        400,
        'webhook_malformed',
      ],
      ['signed non-JSON', signed('not json'), 400, 'invalid_json'],
      [
        'signed, no call id',
        signed(JSON.stringify({ id: 'evt', type: 'realtime.call.incoming', created_at: 1, data: {} })),
        400,
        'webhook_malformed',
      ],
      // A dot segment cannot name a call in the service's URL paths (found by the webhook fuzz test: it was a 500).
      ['signed, call id ".."', signed(incomingCall('..', '+18005550100'), 'wh_dots'), 400, 'webhook_malformed'],
    ];
    for (const [name, p, status, code] of cases) {
      const res = await p;
      expect({ name, status: res.status, code: (await res.json()).error?.code }).toEqual({ name, status, code });
    }
    expect((await h.rows(TABLES.sessions)).length).toBe(before.sessions);
    expect((await h.rows(TABLES.webhooks)).length).toBe(before.deliveries);
    expect(provider.calls.length).toBe(calls);
  });

  it('leaves a failed delivery retryable: upstream 500 on accept → 502, the retry accepts', async () => {
    provider.failNext('accept', 1, 500);
    const body = incomingCall('rtc_retry', '+18005550199');
    const first = await signed(body, 'wh_retry');
    expect(first.status).toBe(502);
    expect((await rowsFor(TABLES.webhooks, 'wh_retry'))[0]).toMatchObject({ status: 'failed' });
    const second = await signed(body, 'wh_retry');
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ status: 'accepted', agentId: 'concierge' });
    expect(provider.calls.filter((c) => c.op === 'accept' && c.callId === 'rtc_retry')).toHaveLength(1);
    expect((await rowsFor(TABLES.sessions, sessionIdForCall('rtc_retry'))).map((r) => r.rowKey).sort()).toEqual([
      '',
      'lifecycle',
    ]);
    expect((await rowsFor(TABLES.webhooks, 'wh_retry'))[0]).toMatchObject({ status: 'processed', attempts: 2 });
  });

  it('the daily retention timer removes delivery records older than a week, and only those', async () => {
    const all = await h.rows(TABLES.webhooks);
    expect(all.length).toBeGreaterThan(0);
    const run = (now: number) => {
      const lines: string[] = [];
      const ctx = new InvocationContext({
        functionName: 'historyRetention',
        logHandler: (_l, ...a) => lines.push(a.join(' ')),
      });
      const timer = {
        isPastDue: false,
        schedule: { adjustForDST: false },
        scheduleStatus: { last: '', next: '', lastUpdated: '' },
      };
      const deps = { history: h.deps.history, sessions: h.deps.sessions, deliveries: h.deps.deliveries };
      return retentionTimer({ ...deps, config: { HISTORY_RETENTION_DAYS: 3650 }, now: () => now })(timer, ctx).then(
        () => lines,
      );
    };
    expect((await run(Date.now() + DELIVERY_RETENTION_MS - 3_600_000)).join('\n')).toMatch(
      /: 0 delivery records removed/,
    );
    expect(await h.rows(TABLES.webhooks)).toHaveLength(all.length);
    const lines = await run(Date.now() + DELIVERY_RETENTION_MS + 1000);
    expect(lines.join('\n')).toMatch(new RegExp(`: ${all.length} delivery records removed`));
    expect(await h.rows(TABLES.webhooks)).toHaveLength(0);
  });

  it('acknowledges verified events of other types without acting', async () => {
    const res = await signed(
      JSON.stringify({ id: 'evt_2', type: 'response.completed', created_at: nowS(), data: { id: 'resp_1' } }),
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ignored', type: 'response.completed' });
  });
});
