import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startAzurite, type Azurite } from './azurite';
import { loadFunctionsConfig } from '../shared/config/index';
import { ensureTables } from '../shared/storage/tables';
import { seedAll } from '../shared/tools/seed-all';
import { startRealtimeEmulator, type RealtimeEmulator } from '../emulators/realtime/index';
import { startSimulatedHost, type SimulatedHost } from '../emulators/durable-host/index';
import type { Faults } from '../emulators/durable-host/taskhub';

const SECRET = 'durable-sim-worker-secret-0123456789';
const API_KEY = 'emulator-dev-key';

/**
 * A whole deployment around the simulated task hub: the built Function app on it, Table Storage on Azurite,
 * the realtime emulator, and a fleet of fake workers (their internal API answers attaches; their heartbeat
 * ticks run on the hub's virtual clock through the app's own heartbeat route). `Date.now` follows the virtual
 * clock while it runs, so handlers and orchestrations agree on time.
 */
export interface Deployment {
  host: SimulatedHost;
  /** The app's settings (storage connection string and the rest). */
  env: Record<string, string>;
  /** Workers alive and the sessions each holds (as its attach calls said). */
  workers: Map<string, Set<string>>;
  startSession(userId?: string): Promise<string>;
  registerCall(sessionId: string, callId: string, userId?: string): Promise<void>;
  report(sessionId: string, workerId: string, type: 'ended' | 'workerLost' | 'failed', reason: string): Promise<void>;
  kill(workerId: string): void;
  /** A new worker replica (its heartbeat ticks start now). */
  spawn(workerId: string): void;
  scale(): Promise<{ liveSessions: number; workers: number }>;
  /** Runs the hub for `ms` of virtual time (worker ticks included). */
  advance(ms: number): Promise<void>;
  record(sessionId: string): { state: string; workerId?: string } | null;
  close(): Promise<void>;
}

export async function startDeployment(opts: {
  entry: string;
  seed?: number;
  faults?: Faults;
  workers?: number;
  heartbeatMs?: number;
  env?: Record<string, string>;
  azurite?: Azurite;
  log?: (line: string) => void;
}): Promise<Deployment> {
  const azurite = opts.azurite ?? (await startAzurite());
  const emulator: RealtimeEmulator = await startRealtimeEmulator({ port: 0, apiKeys: [API_KEY], useEspeak: false });
  const workers = new Map<string, Set<string>>();
  const names = Array.from({ length: opts.workers ?? 2 }, (_, i) => `w${i + 1}`);
  for (const n of names) workers.set(n, new Set());
  let turn = 0;
  const fake = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
    const alive = [...workers.keys()].filter((w) => !(body.avoidWorkers ?? []).includes(w));
    if (req.url === '/attach') {
      const w = alive[turn++ % Math.max(1, alive.length)];
      if (!w) {
        // Time stands still inside an activity here (Date.now is the virtual clock), so a retryable refusal
        // would spin the attach's budget loop forever: no replica left answers as a call that is gone.
        res.writeHead(404, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: { code: 'call_not_found', message: 'no worker left' } }));
      }
      workers.get(w)!.add(body.sessionId);
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ workerId: w, sessionId: body.sessionId, already: false }));
    }
    for (const held of workers.values()) held.delete(body.sessionId);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{}');
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  const workerUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  const env = {
    AUTH_MODE: 'dev',
    LIFECYCLE_MODE: 'durable',
    STORAGE_CONNECTION_STRING: azurite.connectionString,
    REALTIME_PROVIDER: 'emulator',
    REALTIME_ENDPOINT: emulator.url,
    REALTIME_API_KEY: API_KEY,
    WORKER_URL: workerUrl,
    WORKER_AUTH_SECRET: SECRET,
    HEARTBEAT_TIMEOUT_SECONDS: '15',
    JUDGE_SAMPLE_RATE: '0',
    ...opts.env,
  };
  await ensureTables(loadFunctionsConfig(env));
  await seedAll(loadFunctionsConfig(env));
  const realNow = Date.now;
  const host = await startSimulatedHost({
    entry: opts.entry,
    env,
    seed: opts.seed,
    faults: opts.faults,
    start: realNow(),
    log: opts.log,
  });
  const auth = { authorization: `Bearer ${SECRET}` };
  const heartbeatMs = opts.heartbeatMs ?? 5000;
  const tick = (w: string) => async () => {
    if (!workers.has(w)) return; // a dead worker beats no more
    const held = [...workers.get(w)!];
    if (held.length) {
      const r = await host.http('internal-heartbeats', {
        method: 'POST',
        path: 'internal/heartbeats',
        headers: auth,
        body: { workerId: w, sessionIds: held },
      });
      for (const id of (r.body as { drop?: string[] })?.drop ?? []) workers.get(w)?.delete(id);
    }
    host.hub.at(host.hub.clock + heartbeatMs, tick(w));
  };
  names.forEach((w, i) => host.hub.at(host.hub.clock + 500 + i * 700, tick(w)));
  const withClock = async <T>(fn: () => Promise<T>): Promise<T> => {
    Date.now = () => host.hub.clock;
    try {
      return await fn();
    } finally {
      Date.now = realNow;
    }
  };
  const user = (u: string) => ({ 'x-user-id': u });
  return {
    host,
    env,
    workers,
    startSession: (userId = 'u1') =>
      withClock(async () => {
        const r = await host.http('sessions-start', {
          method: 'POST',
          path: 'sessions',
          headers: user(userId),
          body: { agentId: 'customer-support' },
        });
        if (r.status >= 300) throw new Error(`sessions-start ${r.status}: ${JSON.stringify(r.body)}`);
        return (r.body as { sessionId: string }).sessionId;
      }),
    registerCall: (sessionId, callId, userId = 'u1') =>
      withClock(async () => {
        const r = await host.http('sessions-call', {
          method: 'POST',
          path: `sessions/${sessionId}/call`,
          headers: user(userId),
          params: { id: sessionId },
          body: { callId },
        });
        if (r.status >= 300) throw new Error(`sessions-call ${r.status}: ${JSON.stringify(r.body)}`);
      }),
    report: (sessionId, workerId, type, reason) =>
      withClock(async () => {
        const r = await host.http('internal-report', {
          method: 'POST',
          path: `internal/sessions/${sessionId}/report`,
          headers: auth,
          params: { sessionId },
          body: { type, workerId, reason },
        });
        if (r.status >= 300) throw new Error(`internal-report ${r.status}`);
      }),
    kill: (w) => void workers.delete(w),
    spawn(w) {
      if (workers.has(w)) return;
      workers.set(w, new Set());
      host.hub.at(host.hub.clock + 300, tick(w));
    },
    scale: () =>
      withClock(async () => {
        const r = await host.http('internal-scale', { method: 'GET', path: 'internal/scale', headers: auth });
        return r.body as { liveSessions: number; workers: number };
      }),
    advance: (ms) => withClock(() => host.hub.run(host.hub.clock + ms)),
    record(sessionId) {
      const e = host.hub.entities.get(`@session@${sessionId}`);
      return e?.state ? (JSON.parse(e.state).record ?? null) : null;
    },
    async close() {
      await host.close();
      await new Promise((r) => fake.close(r));
      await emulator.stop();
      if (!opts.azurite) await azurite.stop();
    },
  };
}
