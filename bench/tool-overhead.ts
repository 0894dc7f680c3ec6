import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { percentile, report, round } from './report';
import { startMeasuringServer, type Sample } from './tool-overhead-server';

/**
 * Tool-call overhead: from `response.function_call_arguments.done` arriving to `response.create` sent, minus
 * the tool's own time, for the worker's sideband code, the raw-`ws` floor and @openai/agents-realtime (the
 * peer), each in its own child process against the same measuring server, at 1, 100 and 500 sessions.
 *
 * Load: every session gets a tool call, then waits a random gap before the next, so the process sees a steady
 * TOOL_BENCH_RATE calls/s (default 500) whatever the session count. Settings: TOOL_BENCH_LEVELS ("1,100,500"),
 * TOOL_BENCH_SAMPLES (minimum samples per cell, default 2000).
 */
const LEVELS = (process.env.TOOL_BENCH_LEVELS ?? '1,100,500').split(',').map(Number);
const RATE = Number(process.env.TOOL_BENCH_RATE ?? 500);
const MIN_SAMPLES = Number(process.env.TOOL_BENCH_SAMPLES ?? 2000);
const KINDS = ['worker', 'floor', 'peer'] as const;
type Kind = (typeof KINDS)[number];

async function measure(kind: Kind, sessions: number): Promise<{ samples: Sample[]; errors: string[] }> {
  const server = await startMeasuringServer();
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/tool-overhead-handlers.ts', kind, String(sessions), server.url], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (l) => l.trim() === 'ready' && resolve());
      child.once('exit', (code) => reject(new Error(`${kind} handler exited (${code}) before it was ready`)));
    });
    await server.waitForConnections(sessions);
    // Warm up JIT and the handlers' lazy paths; not counted.
    for (let w = 0; w < 3; w++) await Promise.all(Array.from({ length: sessions }, (_, i) => server.fire(i)));

    const rounds = Math.max(10, Math.ceil(MIN_SAMPLES / sessions));
    const meanGapMs = (sessions / RATE) * 1000;
    const samples: Sample[] = [];
    await Promise.all(
      Array.from({ length: sessions }, async (_, i) => {
        // Spread the first calls over one gap so sessions don't fire in lock-step.
        await new Promise((r) => setTimeout(r, Math.random() * meanGapMs));
        for (let k = 0; k < rounds; k++) {
          samples.push(await server.fire(i));
          await new Promise((r) => setTimeout(r, Math.random() * 2 * meanGapMs));
        }
      }),
    );
    return { samples, errors: [...server.errors] };
  } finally {
    child.kill('SIGKILL');
    await server.close();
  }
}

async function main() {
  const rows: Record<string, string | number>[] = [];
  const raw: Record<string, unknown>[] = [];
  for (const sessions of LEVELS) {
    const cell: Partial<Record<Kind, { p50: number; p99: number }>> = {};
    for (const kind of KINDS) {
      let result: { samples: Sample[]; errors: string[] };
      try {
        result = await measure(kind, sessions);
      } catch (err) {
        console.error(`${kind} @ ${sessions}: ${(err as Error).message}`);
        rows.push({ sessions, handler: kind, samples: 0, 'p50 ms': 'failed', 'p99 ms': (err as Error).message.slice(0, 60) });
        continue;
      }
      const o = result.samples.map((s) => s.overheadMs);
      const p50 = percentile(o, 50);
      const p99 = percentile(o, 99);
      cell[kind] = { p50, p99 };
      raw.push({ sessions, handler: kind, samples: o.length, p50, p90: percentile(o, 90), p99, max: Math.max(...o), toolP99: percentile(result.samples.map((s) => s.toolMs), 99), errors: result.errors.length });
      rows.push({ sessions, handler: kind, samples: o.length, 'p50 ms': round(p50, 3), 'p99 ms': round(p99, 3), 'max ms': round(Math.max(...o), 2), errors: result.errors.length });
    }
    for (const r of rows.filter((x) => x.sessions === sessions && cell.floor && typeof x['p99 ms'] === 'number')) {
      const k = r.handler as Kind;
      r['p50 ×floor'] = round(cell[k]!.p50 / cell.floor!.p50, 2);
      r['p99 ×floor'] = round(cell[k]!.p99 / cell.floor!.p99, 2);
    }
  }
  report('tool-overhead', rows, {
    method:
      'Measuring ws server (GA events) in the parent; each handler kind in its own child process. Overhead = time from writing response.function_call_arguments.done to receiving both the function_call_output item and response.create, minus the tool time the tool reports in its output. ' +
      `Load: a steady ${RATE} tool calls/s per process spread over the sessions. worker = WorkerCore/SidebandSession/ToolExecutor with the real provider socket, instant in-process ToolGateway, in-memory ToolRunStore (no MCP hop, no Table Storage), no-op publisher/history/lifecycle.`,
    targets: { p99AtMaxSessionsMs: 5, vsFloorP99: 1.5 },
    detail: raw,
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
