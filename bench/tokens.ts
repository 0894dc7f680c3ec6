import { performance } from 'node:perf_hooks';
import { startRealtimeEmulator } from '../emulators/realtime/index';
import { signWebhook } from '../shared/webhooks/standard-webhooks';
import { postJson, startHarness, WEBHOOK_SECRET } from '../test/functions/harness';
import { percentile, report } from './report';

/**
 * Token minting and webhook handling, measured through the local runner (real @azure/functions request
 * classes) against Azurite and the realtime emulator. Lifecycle signals are recorded, not applied (in Azure a
 * signal is one Durable start; the lifecycle has its own bench), so the figures are this feature's own cost:
 * - upstream: provider.mintClientSecret alone (the emulator's client_secrets call);
 * - POST /api/sessions end to end; its overhead over the upstream call is what this backend adds
 *   (auth, rate limit, validation, agent lookup, tools, one Table insert, the lifecycle signal); a request refused
 *   by validation and the row insert alone are timed beside them, to show what the overhead is made of;
 * - POST /api/webhooks/realtime for a new SIP call (verify, claim, route, accept upstream, insert, signal,
 *   complete), for a duplicate delivery, and for a forged one.
 */
const N = Number(process.env.BENCH_TOKENS_N ?? 200);
const WARMUP = 20;

const emulator = await startRealtimeEmulator({ port: 0, useEspeak: false });
const h = await startHarness({
  env: { REALTIME_ENDPOINT: emulator.url, RATE_LIMIT_PER_MINUTE: '100000' },
});

async function time(n: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    out.push(performance.now() - t);
  }
  return out;
}
const expectStatus = async (res: Response, status: number) => {
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
};

try {
  const agent = (await h.deps.agents.get('concierge'))!;
  const session = h.deps.buildSessionConfig(agent, await h.deps.toolGateway.toolsFor(agent), {
    model: h.config.REALTIME_MODEL,
  });
  const upstreamMint = () => h.deps.provider.mintClientSecret(session, 60).then(() => undefined);
  const startSession = (i: number) =>
    postJson(`${h.api}/sessions`, { agentId: 'concierge' }, { 'x-user-id': `bench-${i % 50}` }).then((r) =>
      expectStatus(r, 201),
    );

  // What the overhead is made of: the request's fixed cost (the runner, auth, the rate limit, a body refused by
  // validation) and the session row's insert, which the handler awaits alongside the mint.
  const refusedRequest = (i: number) =>
    postJson(`${h.api}/sessions`, { agentId: 42 }, { 'x-user-id': `bench-${i % 50}` }).then((r) =>
      expectStatus(r, 400),
    );
  const rowInsert = (i: number) =>
    h.deps.sessions.create({
      sessionId: `bench-row-${i}-${Date.now()}`,
      agentId: 'concierge',
      transport: 'webrtc',
      userId: `bench-${i % 50}`,
      historyPartition: `user:bench-${i % 50}`,
      state: 'requested',
      createdAt: Date.now(),
      model: h.config.REALTIME_MODEL,
      resume: false,
    });

  await time(WARMUP, upstreamMint);
  await time(WARMUP, startSession);
  await time(WARMUP, refusedRequest);
  await time(WARMUP, rowInsert);
  // Interleaved so all see the same machine load.
  const upstream: number[] = [];
  const endToEnd: number[] = [];
  const refused: number[] = [];
  const inserts: number[] = [];
  for (let i = 0; i < N; i++) {
    upstream.push(...(await time(1, upstreamMint)));
    endToEnd.push(...(await time(1, () => startSession(i))));
    refused.push(...(await time(1, () => refusedRequest(i))));
    inserts.push(...(await time(1, () => rowInsert(i))));
  }

  const deliver = (body: string, headers: Record<string, string>) =>
    fetch(`${h.api}/webhooks/realtime`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
  const incoming = (callId: string) =>
    JSON.stringify({
      id: `evt_${callId}`,
      type: 'realtime.call.incoming',
      created_at: Math.floor(Date.now() / 1000),
      data: {
        call_id: callId,
        sip_headers: [
          { name: 'From', value: '<sip:+14155550123@pstn.example>' },
          { name: 'To', value: '<sip:+18005550100@sip.example>' },
        ],
      },
    });
  const calls: { id: string; body: string }[] = [];
  for (let i = 0; i < N + WARMUP; i++) {
    const { callId } = await emulator.simulateIncomingSipCall({ from: '+14155550123', to: '+18005550100' });
    calls.push({ id: callId, body: incoming(callId) });
  }
  const sign = (id: string, body: string, secret = WEBHOOK_SECRET) =>
    signWebhook(secret, id, Math.floor(Date.now() / 1000), body);
  await time(WARMUP, async (i) =>
    expectStatus(await deliver(calls[i]!.body, sign(`wh_warm_${i}`, calls[i]!.body)), 200),
  );
  const fresh = await time(N, async (i) => {
    const c = calls[WARMUP + i]!;
    await expectStatus(await deliver(c.body, sign(`wh_bench_${i}`, c.body)), 200);
  });
  const duplicate = await time(N, async (i) => {
    const c = calls[WARMUP + i]!;
    await expectStatus(await deliver(c.body, sign(`wh_bench_${i}`, c.body)), 200);
  });
  const forgedSecret = `whsec_${Buffer.from('bench-forger').toString('base64')}`;
  const forged = await time(N, async (i) => {
    const c = calls[WARMUP + i]!;
    await expectStatus(await deliver(c.body, sign(`wh_forged_${i}`, c.body, forgedSecret)), 401);
  });

  const row = (what: string, xs: number[]) => ({
    what,
    n: xs.length,
    p50_ms: percentile(xs, 50),
    p99_ms: percentile(xs, 99),
    max_ms: Math.max(...xs),
  });
  const overhead = endToEnd.map((e, i) => e - upstream[i]!);
  report(
    'tokens',
    [
      row('upstream client_secrets (emulator)', upstream),
      row('POST /api/sessions end to end', endToEnd),
      row('token-mint overhead (end to end − upstream, paired)', overhead),
      row('  of it: request floor (runner, auth, rate limit, 400 on a bad body)', refused),
      row('  of it: session row insert alone (awaited beside the mint)', inserts),
      row('webhook: new SIP call (verify → accept → insert → signal)', fresh),
      row('webhook: duplicate delivery (verify → 409 claim → ack)', duplicate),
      row('webhook: forged signature (401, nothing written)', forged),
    ],
    {
      notes:
        'Local runner + Azurite + realtime emulator on one machine, sequential requests; lifecycle signals recorded, not applied. The overhead row pairs each end-to-end request with the upstream call measured just before it; in Azure the upstream call and Table Storage are remote, so absolute numbers differ — the overhead is what this code adds.',
    },
  );
} finally {
  await h.stop();
  await emulator.stop();
}
