import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports';

/**
 * The worker as Container Apps runs it, locally: N replica processes (tsx children) behind one port, each
 * restarted when it dies (like a replica being replaced), with a small balancer in front standing in for
 * the Container Apps ingress. Attach requests go round-robin and move on to the next replica when one is
 * down, draining or full; detach fans out (the ingress cannot address a replica, so neither do callers).
 */
export interface WorkerReplica {
  index: number;
  port: number;
  pid?: number;
  workerId?: string;
  restarts: number;
}

export interface WorkerFleet {
  url: string;
  replicas: WorkerReplica[];
  /** Kills a replica (default SIGKILL); the fleet starts a new process in its place. */
  kill(index: number, signal?: NodeJS.Signals): void;
  /** Resolves once every replica answers /healthz (and reports its worker id). */
  ready(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface FleetOptions {
  port: number;
  replicas: number;
  env: Record<string, string>;
  log?: (line: string) => void;
  /** Delay before a dead replica is started again. */
  restartDelayMs?: number;
}

const ENTRY = resolve(fileURLToPath(new URL('.', import.meta.url)), '../worker/main.ts');

export async function startWorkerFleet(opts: FleetOptions): Promise<WorkerFleet> {
  const log = opts.log ?? (() => {});
  let stopping = false;
  const replicas: (WorkerReplica & { child?: ChildProcess; exited?: Promise<void>; backoffMs?: number })[] = [];
  for (let i = 0; i < opts.replicas; i++) replicas.push({ index: i, port: await freePort(), restarts: 0 });

  const spawnReplica = (r: (typeof replicas)[number]) => {
    r.workerId = undefined;
    const startedAt = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
      // Replicas are reached only through the balancer: nothing outside this machine may talk to them.
      env: { ...opts.env, PORT: String(r.port), LISTEN_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    r.child = child;
    r.pid = child.pid;
    const prefix = (d: Buffer) =>
      d
        .toString()
        .trimEnd()
        .split('\n')
        .forEach((l) => log(l));
    child.stdout?.on('data', prefix);
    child.stderr?.on('data', prefix);
    r.exited = new Promise((done) =>
      child.once('exit', (code, signal) => {
        done();
        if (stopping) return;
        log(`worker replica ${r.index} exited (${signal ?? code}); starting a new one`);
        r.restarts++;
        // A replica that dies right after starting is crash-looping (bad setting, broken build): back off.
        const base = opts.restartDelayMs ?? 200;
        r.backoffMs = Date.now() - startedAt < 5000 ? Math.min(10_000, (r.backoffMs ?? base) * 2) : base;
        setTimeout(() => !stopping && spawnReplica(r), r.backoffMs);
      }),
    );
  };
  replicas.forEach(spawnReplica);

  let next = 0;
  const balancer: Server = createServer(async (req, res) => {
    // A client that aborts mid-body rejects the read: that request is over, the balancer is not.
    const body = await readAll(req).catch(() => undefined);
    if (!body) return void res.destroy();
    const path = (req.url ?? '/').split('?')[0];
    const forward = (r: WorkerReplica) => proxy(r.port, req, body);
    try {
      if (path === '/detach' || path === '/drain') {
        const results = await Promise.all(replicas.map((r) => forward(r).catch(() => undefined)));
        const hit = results.find((x) => x && x.status < 400) ??
          results.find((x) => x) ?? {
            status: 502,
            headers: {},
            body: Buffer.from('{"error":{"code":"no_replica","message":"no worker replica answered"}}'),
          };
        res.writeHead(hit.status, hit.headers).end(hit.body);
        return;
      }
      // Round-robin; a replica that is down, draining or full (connection refused / 503) passes to the next.
      const start = next++ % replicas.length;
      let last: Proxied | undefined;
      for (let k = 0; k < replicas.length; k++) {
        const r = replicas[(start + k) % replicas.length]!;
        try {
          last = await forward(r);
          if (last.status !== 503) break;
        } catch {
          /* replica down; try the next */
        }
      }
      if (!last) {
        res
          .writeHead(503, { 'content-type': 'application/json' })
          .end('{"error":{"code":"no_replica","message":"no worker replica is up"}}');
        return;
      }
      res.writeHead(last.status, last.headers).end(last.body);
    } catch (err) {
      res
        .writeHead(502, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'bad_gateway', message: (err as Error).message } }));
    }
  });
  await new Promise<void>((ok, fail) => {
    balancer.once('error', fail);
    balancer.listen(opts.port, '127.0.0.1', () => ok());
  });

  const fleet: WorkerFleet = {
    url: `http://127.0.0.1:${opts.port}`,
    replicas,
    kill(index, signal = 'SIGKILL') {
      replicas[index]?.child?.kill(signal);
    },
    async ready(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      await Promise.all(
        replicas.map(async (r) => {
          while (Date.now() < deadline) {
            const h = await fetch(`http://127.0.0.1:${r.port}/healthz`)
              .then((x) => x.json() as Promise<{ workerId?: string }>)
              .catch(() => undefined);
            if (h?.workerId) {
              r.workerId = h.workerId;
              return;
            }
            await new Promise((w) => setTimeout(w, 100));
          }
          throw new Error(`worker replica ${r.index} did not become healthy within ${timeoutMs} ms`);
        }),
      );
    },
    async stop() {
      stopping = true;
      await new Promise<void>((done) => (balancer.closeAllConnections(), balancer.close(() => done())));
      await Promise.all(
        replicas.map(async (r) => {
          const c = r.child;
          if (!c || c.exitCode !== null || c.signalCode) return;
          c.kill('SIGTERM');
          const t = setTimeout(() => c.kill('SIGKILL'), 3000);
          await r.exited;
          clearTimeout(t);
        }),
      );
    },
  };
  return fleet;
}

interface Proxied {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

function proxy(port: number, req: IncomingMessage, body: Buffer): Promise<Proxied> {
  return new Promise((ok, fail) => {
    const headers = { ...req.headers, host: `127.0.0.1:${port}`, 'content-length': String(body.length) };
    const out = request(
      { host: '127.0.0.1', port, method: req.method, path: req.url, headers, timeout: 15_000 },
      (res) => {
        readAll(res).then((b) => {
          const h: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers))
            if (typeof v === 'string' && k !== 'transfer-encoding' && k !== 'connection') h[k] = v;
          ok({ status: res.statusCode ?? 502, headers: h, body: b });
        }, fail);
      },
    );
    out.on('error', fail);
    out.on('timeout', () => out.destroy(new Error('replica timed out')));
    out.end(body);
  });
}

function readAll(s: IncomingMessage): Promise<Buffer> {
  return new Promise((ok, fail) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => ok(Buffer.concat(chunks)));
    s.on('error', fail);
  });
}
