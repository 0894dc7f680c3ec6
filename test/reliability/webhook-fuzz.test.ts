import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { signWebhook } from '../../shared/webhooks/standard-webhooks';
import { startHarness, TABLES, WEBHOOK_SECRET, type Harness } from '../functions/harness';

/**
 * 10,000 generated webhook requests against the real handler on the local runner and Azurite: none may crash
 * the process or produce a 5xx, and none that is refused may write anything.
 */
const RUNS = 10_000;

const now = () => Math.floor(Date.now() / 1000);
const printable = fc.string({ maxLength: 40 });

/** Bodies: random bytes, random JSON, near-miss events, and well-formed events of other types. */
const body = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.json({ maxDepth: 3 }),
  fc
    .record({
      id: printable,
      type: fc.constantFrom('realtime.call.incoming', 'response.done', ''),
      data: fc.anything({ maxDepth: 2 }),
    })
    .map((o) => JSON.stringify(o)),
  fc
    .record({
      object: fc.constant('event'),
      id: printable,
      type: fc.constant('realtime.call.incoming'),
      created_at: fc.integer(),
      data: fc.record(
        {
          call_id: fc.oneof(fc.constant(undefined), fc.integer(), printable),
          sip_headers: fc.oneof(
            fc.constant('x'),
            fc.array(fc.record({ name: printable, value: fc.integer() }), { maxLength: 3 }),
          ),
        },
        { requiredKeys: [] },
      ),
    })
    .map((o) => JSON.stringify(o)),
);

type Case = { body: string; headers: Record<string, string>; signedValid: boolean };

const forged = fc
  .record({
    body,
    id: printable,
    ts: fc.oneof(
      fc.constant(String(now())),
      fc.integer().map(String),
      printable,
      fc.constant(String(now() - 3600)),
      fc.constant(String(now() + 3600)),
    ),
    sig: fc.oneof(
      fc.constant(''),
      printable,
      fc.base64String({ maxLength: 60 }).map((s) => `v1,${s}`),
      fc.constant('v1a,abc'),
      fc.constant('v2,x y'),
    ),
    omit: fc.subarray(['webhook-id', 'webhook-timestamp', 'webhook-signature']),
  })
  .map(({ body, id, ts, sig, omit }): Case => {
    const headers: Record<string, string> = { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sig };
    for (const h of omit) delete headers[h];
    return { body, headers, signedValid: false };
  });

/** Correctly signed, but the timestamp is stale/future, or the payload is not an acceptable incoming call. */
const signed = fc
  .record({ body, id: fc.stringMatching(/^[A-Za-z0-9_]{1,30}$/), skew: fc.constantFrom(0, -3600, 3600) })
  .map(({ body, id, skew }): Case => ({
    body,
    headers: signWebhook(WEBHOOK_SECRET, `fuzz_${id}`, now() + skew, body),
    signedValid: skew === 0,
  }));

describe('fuzz: realtime webhook endpoint', () => {
  let h: Harness;
  let emulator: RealtimeEmulator;
  beforeAll(async () => {
    // The realtime service is up, so any 5xx would be ours, not an upstream outage passed on.
    emulator = await startRealtimeEmulator({ useEspeak: false });
    h = await startHarness({ env: { REALTIME_ENDPOINT: emulator.url } });
  });
  afterAll(async () => {
    await h?.stop();
    await emulator?.stop();
  });

  it(`survives ${RUNS} generated requests: no 5xx, refused requests write nothing`, async () => {
    const statuses = new Map<number, number>();
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof(forged, signed), async (c) => {
        const res = await fetch(`${h.api}/webhooks/realtime`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...c.headers },
          body: c.body,
        });
        const json = (await res.json()) as { error?: { code: string } };
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(res.status).toBeLessThan(500);
        if (res.status >= 400) expect(json.error?.code).toMatch(/^[a-z_]+$/);
        else accepted++;
        // Only a correctly signed, fresh delivery may ever be accepted.
        if (res.status < 400) expect(c.signedValid).toBe(true);
      }),
      { numRuns: RUNS },
    );
    // Only verified deliveries may leave a trace: one delivery row each, and no session (none of the generated
    // calls exists at the realtime service, so none can be accepted).
    const deliveries = await h.rows(TABLES.webhooks);
    expect(deliveries.length).toBeLessThanOrEqual(accepted);
    expect(
      deliveries.every(
        (d) => String(d.rowKey ?? d.partitionKey).includes('fuzz_') || String(d.partitionKey).includes('fuzz_'),
      ),
    ).toBe(true);
    expect((await h.rows(TABLES.sessions)).filter((s) => s.state !== 'failed')).toEqual([]);
    expect(h.signals).toEqual([]);
    // The generators must reach both sides of the verifier, or this test proves little.
    expect(accepted).toBeGreaterThan(0);
    expect([...statuses.keys()].some((s) => s === 401 || s === 400)).toBe(true);
  }, 420_000);
});
