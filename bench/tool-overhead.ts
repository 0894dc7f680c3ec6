import { execFileSync, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { startAzurite, type Azurite } from '../dev/azurite';
import { percentile, report, round } from './report';
import { startMeasuringServer, type Sample } from './tool-overhead-server';

/**
 * Tool-call overhead: from `response.function_call_arguments.done` arriving to `response.create` sent, minus
 * the tool's own time, for the worker's sideband code, the raw-`ws` floor and @openai/agents-realtime (the
 * peer), each in its own child process against its own instance of the same measuring server, at 1, 100 and
 * 500 sessions.
 *
 * Load: every session gets a tool call, then waits a random gap before the next, so a process sees
 * TOOL_BENCH_RATE calls/s (default 500) spread over its sessions, with each session's calls at least
 * MIN_GAP_MS apart on average. Settings: TOOL_BENCH_LEVELS ("1,100,500"), TOOL_BENCH_SAMPLES (minimum
 * samples per cell, default 1000; at least 10 per session), TOOL_BENCH_KINDS (e.g. "worker,peer"),
 * TOOL_BENCH_NO_OBSERVER=1 (the worker without its telemetry observer), TOOL_BENCH_NODE_ARGS (e.g. "--cpu-prof
 * --cpu-prof-dir=/tmp/prof" for the handler processes), TOOL_BENCH_STORAGE_CPU (see `pinStorage`).
 */
const LEVELS = (process.env.TOOL_BENCH_LEVELS ?? '1,100,500').split(',').map(Number);
const RATE = Number(process.env.TOOL_BENCH_RATE ?? 500);
const MIN_SAMPLES = Number(process.env.TOOL_BENCH_SAMPLES ?? 1000);
/** A session's calls are at least this far apart on average (a voice session does not call tools back to back). */
const MIN_GAP_MS = 20;
const BLOCKS = 5;
/**
 * TOOL_BENCH_STORAGE_CPU=<n>: Azurite runs on CPU n alone and everything else (this process, every handler kind,
 * the in-memory worker included) on the other CPUs, with `taskset`. Table Storage is a remote service in Azure; on
 * one small machine the emulator's CPU otherwise competes with the worker it serves, which no deployment has.
 */
const STORAGE_CPU = process.env.TOOL_BENCH_STORAGE_CPU || undefined;

function pinStorage(storagePid: number): string {
  if (STORAGE_CPU === undefined) return 'unpinned (Azurite shares every CPU with the worker)';
  const cpus = availableParallelism();
  const others = Array.from({ length: cpus }, (_, i) => i).filter((i) => String(i) !== STORAGE_CPU);
  if (!others.length) throw new Error(`TOOL_BENCH_STORAGE_CPU=${STORAGE_CPU} leaves no CPU for the rest`);
  execFileSync('taskset', ['-a', '-p', '-c', STORAGE_CPU, String(storagePid)], { stdio: 'ignore' });
  // Children inherit the parent's affinity.
  execFileSync('taskset', ['-a', '-p', '-c', others.join(','), String(process.pid)], { stdio: 'ignore' });
  return `Azurite alone on CPU ${STORAGE_CPU}; the bench and every handler kind on CPU ${others.join(',')}`;
}
let placement = '';
const ALL_KINDS = [
  'worker',
  'worker-bare',
  'floor',
  'peer',
  'worker-tables',
  'worker-tables-ro',
  'worker-claims',
] as const;
type Kind = (typeof ALL_KINDS)[number];
/** The kinds with Table stores, each compared with the in-memory worker (the storage targets). */
const TABLE_KINDS: ReadonlySet<Kind> = new Set(['worker-tables', 'worker-tables-ro', 'worker-claims']);
/**
 * TOOL_BENCH_KINDS narrows the run (e.g. "worker,worker-tables"); the floor and the in-memory worker are always
 * measured, for the ratios.
 */
const KINDS: readonly Kind[] = process.env.TOOL_BENCH_KINDS
  ? ALL_KINDS.filter((k) => k === 'floor' || k === 'worker' || process.env.TOOL_BENCH_KINDS!.split(',').includes(k))
  : ALL_KINDS;

/** One handler kind: its child process and the measuring server it is connected to. */
interface Running {
  kind: Kind;
  server: Awaited<ReturnType<typeof startMeasuringServer>>;
  child: ReturnType<typeof spawn>;
  samples: Sample[];
  /** Overheads per load block: the median of the blocks' p99 is robust to one block hit by a noisy neighbour. */
  blocks: number[][];
}

async function launch(kind: Kind, sessions: number): Promise<Running> {
  const server = await startMeasuringServer();
  const nodeArgs = process.env.TOOL_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []; // e.g. --cpu-prof
  const child = spawn(
    process.execPath,
    [...nodeArgs, '--import', 'tsx', 'bench/tool-overhead-handlers.ts', kind, String(sessions), server.url],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, TOOL_BENCH_STORAGE: azurite?.connectionString ?? '' },
    },
  );
  const running: Running = { kind, server, child, samples: [], blocks: [] };
  try {
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (l) => l.trim() === 'ready' && resolve());
      child.once('exit', (code) => reject(new Error(`${kind} handler exited (${code}) before it was ready`)));
    });
    await server.waitForConnections(sessions);
    // Warm up JIT and the handlers' lazy paths; not counted.
    for (let w = 0; w < 3; w++) await Promise.all(Array.from({ length: sessions }, (_, i) => server.fire(i)));
    return running;
  } catch (err) {
    await stop(running);
    throw err;
  }
}

async function stop(r: Running) {
  // SIGTERM first so a child started with --cpu-prof writes its profile.
  const exited = new Promise((res) => r.child.once('exit', res));
  r.child.kill('SIGTERM');
  await Promise.race([exited, new Promise((res) => setTimeout(res, 3000))]);
  r.child.kill('SIGKILL');
  await r.server.close();
}

/** `count` tool calls spread over the sessions, each session waiting a random gap between its calls. */
async function load(r: Running, sessions: number, count: number) {
  const block: number[] = [];
  r.blocks.push(block);
  const meanGapMs = Math.max(MIN_GAP_MS, (sessions / RATE) * 1000);
  let left = count;
  await Promise.all(
    Array.from({ length: sessions }, async (_, i) => {
      // Spread the first calls over one gap so sessions don't fire in lock-step.
      await new Promise((res) => setTimeout(res, Math.random() * meanGapMs));
      while (left > 0) {
        left--;
        const sample = await r.server.fire(i);
        r.samples.push(sample);
        block.push(sample.overheadMs);
        await new Promise((res) => setTimeout(res, Math.random() * 2 * meanGapMs));
      }
    }),
  );
}

/**
 * All kinds are connected at once (idle ones cost next to nothing) and measured in alternating blocks,
 * so a noisy neighbour on the machine hits them alike instead of spoiling one kind's whole run.
 */
async function measureLevel(sessions: number): Promise<Running[]> {
  const running: Running[] = [];
  try {
    for (const kind of KINDS) running.push(await launch(kind, sessions));
    const perKind = Math.max(MIN_SAMPLES, sessions * 10);
    for (let b = 0; b < BLOCKS; b++) for (const r of running) await load(r, sessions, Math.ceil(perKind / BLOCKS));
    return running;
  } finally {
    for (const r of running) await stop(r);
  }
}

let azurite: Azurite | undefined;

async function main() {
  azurite = await startAzurite();
  placement = pinStorage(azurite.process.pid!);
  try {
    await run();
  } finally {
    await azurite.stop();
  }
}

async function run() {
  const rows: Record<string, string | number>[] = [];
  const raw: Record<string, unknown>[] = [];
  for (const sessions of LEVELS) {
    const cell: Partial<Record<Kind, { p50: number; p99: number; p99mb: number }>> = {};
    let level: Running[];
    try {
      level = await measureLevel(sessions);
    } catch (err) {
      console.error(`${sessions} sessions: ${(err as Error).message}`);
      rows.push({
        sessions,
        handler: 'all',
        samples: 0,
        'p50 ms': 'failed',
        'p99 ms': (err as Error).message.slice(0, 60),
      });
      continue;
    }
    for (const result of level) {
      const kind = result.kind;
      const o = result.samples.map((s) => s.overheadMs);
      const p50 = percentile(o, 50);
      const p99 = percentile(o, 99);
      const blockP99 = percentile(
        result.blocks.map((b) => percentile(b, 99)),
        50,
      );
      cell[kind] = { p50, p99, p99mb: blockP99 };
      raw.push({
        sessions,
        handler: kind,
        samples: o.length,
        p50,
        p90: percentile(o, 90),
        p99,
        p99MidBlock: blockP99,
        max: Math.max(...o),
        toolP99: percentile(
          result.samples.map((s) => s.toolMs),
          99,
        ),
        errors: result.server.errors.length,
        received: result.server.received,
      });
      rows.push({
        sessions,
        handler: kind,
        samples: o.length,
        'p50 ms': round(p50, 3),
        'p90 ms': round(percentile(o, 90), 3),
        'p99 mid-block ms': round(blockP99, 3),
        'p99 ms': round(p99, 3),
        'max ms': round(Math.max(...o), 2),
        errors: result.server.errors.length,
      });
    }
    for (const r of rows.filter((x) => x.sessions === sessions && cell.floor && typeof x['p99 ms'] === 'number')) {
      const k = r.handler as Kind;
      r['p50 ×floor'] = round(cell[k]!.p50 / cell.floor!.p50, 2);
      r['p99 ×floor'] = round(cell[k]!.p99 / cell.floor!.p99, 2);
      r['p99 mid-block ×floor'] = round(cell[k]!.p99mb / cell.floor!.p99mb, 2);
      // The storage targets: the worker with its Table stores against the same worker with in-memory ones.
      if (TABLE_KINDS.has(k) && cell.worker) r['p99 ×worker'] = round(cell[k]!.p99 / cell.worker.p99, 2);
    }
  }
  console.log(`\nplacement: ${placement}`);
  report('tool-overhead', rows, {
    method:
      'Measuring ws server (GA events) in the parent; each handler kind in its own child process. Overhead = time from writing response.function_call_arguments.done to receiving both the function_call_output item and response.create, minus the tool time the tool reports in its output. ' +
      `Load: ${RATE} tool calls/s per process spread over the sessions (each session's calls at least ${MIN_GAP_MS} ms apart on average); the kinds run side by side and are loaded in ${BLOCKS} alternating blocks. worker = WorkerCore/SidebandSession/ToolExecutor with the real provider socket, production SessionTelemetry observer (no exporter), instant in-process ToolGateway, in-memory ToolRunStore (no MCP hop, no Table Storage), no-op publisher/history/lifecycle. worker-bare = the same without the telemetry observer. worker-tables = the same with the real Table Storage tool-run and history stores on a local Azurite, calling a tool with side effects (the claim and the turn's transcript write before the tool are on the path; the delivered record after the send is not). worker-tables-ro = the same calling a read-only tool (no storage on the path). worker-claims = worker-tables without the history store: only the claim before the tool and the delivered mark after it reach Azurite (the floor of one conditional write per call). p99 ×worker = worker-tables p99 over the in-memory worker's p99 in the same run.`,
    placement,
    targets: { p99AtMaxSessionsMs: 5, vsFloorP99: 1.5, tablesVsWorkerP99: { sideEffects: 3, readOnly: 1.5 } },
    detail: raw,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
