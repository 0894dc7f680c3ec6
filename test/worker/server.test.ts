import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerMatches } from '../../shared/worker-client/auth';
import { createWorkerClient, WorkerCallError } from '../../shared/worker-client/client';
import { startWorkerServer } from '../../worker/server';
import { attachBody, FakeRealtime, fakeCore } from './fakes';

const SECRET = 'worker-secret-for-tests-0123456789';
let fake: FakeRealtime;
let f: ReturnType<typeof fakeCore>;
let server: Awaited<ReturnType<typeof startWorkerServer>>;
let base: string;
let drains = 0;

beforeAll(async () => {
  fake = await FakeRealtime.start();
  f = fakeCore(fake);
  server = await startWorkerServer({
    core: f.core,
    secret: SECRET,
    port: 0,
    host: '127.0.0.1',
    onDrain: () => drains++,
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(async () => {
  await f.core.stop();
  await server?.close();
  await fake?.stop();
});

/** `auth: ''` sends no authorization header at all. */
const post = (path: string, body: unknown, auth = `Bearer ${SECRET}`) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('worker internal API', () => {
  it('answers the probes without credentials', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, draining: false });
  });

  it('refuses every other route without the bearer secret, with a JSON 401', async () => {
    for (const auth of ['', 'Bearer wrong', `Basic ${SECRET}`, `Bearer ${SECRET}x`]) {
      const res = await post('/attach', attachBody('s1', 'c1'), auth);
      expect(res.status).toBe(401);
      expect((await res.json()).error.code).toBe('unauthorized');
    }
    expect(f.core.sessions.size).toBe(0);
  });

  it('validates bodies: malformed JSON and missing fields are 400s naming the field', async () => {
    const bad = await post('/attach', '{nope');
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('invalid_json');
    const missing = await post('/attach', { sessionId: 's1' });
    expect(missing.status).toBe(400);
    const body = await missing.json();
    expect(body.error).toMatchObject({ code: 'validation_failed', message: expect.stringMatching(/^body\.callId/) });
  });

  it('attaches through the Function app client, detaches, and 404s a detach it does not hold', async () => {
    const client = createWorkerClient({ baseUrl: base, secret: SECRET });
    const res = await client.attach(attachBody('s-api', 'call-api'));
    expect(res).toEqual({ workerId: 'w-test', sessionId: 's-api', already: false });
    await client.detach('s-api', 'test'); // 200
    await client.detach('s-api', 'test'); // 404 is fine for a detach
    expect(f.core.sessions.size).toBe(0);
    await expect(client.attach({ ...attachBody('s-x', 'c-x'), agentId: 'nobody' })).rejects.toMatchObject({
      status: 422,
      retryable: false,
    });
    const down = createWorkerClient({ baseUrl: 'http://127.0.0.1:9', secret: SECRET, timeoutMs: 500 });
    await expect(down.attach(attachBody('s-y', 'c-y'))).rejects.toBeInstanceOf(WorkerCallError);
  });

  it('POST /drain hands over to the drain routine', async () => {
    const res = await post('/drain', {});
    expect(res.status).toBe(202);
    expect(drains).toBe(1);
  });

  it('compares the secret in constant time whatever the length', () => {
    expect(bearerMatches(`Bearer ${SECRET}`, SECRET)).toBe(true);
    expect(bearerMatches(`bearer ${SECRET}`, SECRET)).toBe(true);
    expect(bearerMatches('Bearer ', SECRET)).toBe(false);
    expect(bearerMatches(undefined, SECRET)).toBe(false);
    expect(bearerMatches(`Bearer ${'x'.repeat(10_000)}`, SECRET)).toBe(false);
  });
});
