import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildFunctionsBundle } from '../emulators/durable-host/index';
import { storageIdlePerHour, storageTransactions, workItems, type HubCounters } from '../emulators/durable-host/costs';
import { startDeployment, type Deployment } from '../dev/durable-scenario';
import { report } from './report';

/**
 * Durable work per session, simulated: the built Function app on the simulated task hub (emulators/durable-host)
 * runs WebRTC sessions of 1 and 60 minutes on one worker heartbeating every 5 s. Work items (orchestrator
 * episodes, entity batches, activities) and queue messages are counted as the hub runs them; storage
 * transactions are what the Azure Storage provider would spend for that work (costs.ts: an estimate from its
 * documented mechanics, not a measurement). Per session = (10 sessions − 1 session) / 9 over the same window, so
 * the worker's own share cancels out; per worker = the 1-session run minus one session.
 *
 * `before`: the same harness over the bundle of DURABLE_BENCH_BEFORE (a commit; default: the one before the
 * per-worker liveness), built in a temporary worktree. DURABLE_BENCH_BEFORE=none skips it.
 */
const BEFORE = process.env.DURABLE_BENCH_BEFORE ?? '79abca2';
const MIN = 60_000;

interface Window {
  counters: HubCounters;
  ms: number;
}

const diff = (a: HubCounters, b: HubCounters): HubCounters => ({
  workItems: {
    orchestrator: a.workItems.orchestrator - b.workItems.orchestrator,
    entity: a.workItems.entity - b.workItems.entity,
    activity: a.workItems.activity - b.workItems.activity,
  },
  messages: a.messages - b.messages,
  checkpoints: a.checkpoints - b.checkpoints,
  entityOperations: a.entityOperations - b.entityOperations,
  continuedAsNew: a.continuedAsNew - b.continuedAsNew,
  redelivered: a.redelivered - b.redelivered,
  episodes: {},
  activities: {},
});

/** `n` sessions live for `minutes` on worker w1, ended, then the hub runs until everything settled. */
async function window(d: Deployment, n: number, minutes: number): Promise<Window> {
  const start = structuredClone(d.host.hub.counters);
  const t0 = d.host.hub.clock;
  const ids: string[] = [];
  for (let i = 0; i < n; i++) ids.push(await d.startSession(`bench-${i}`));
  await d.advance(1000);
  for (const [i, id] of ids.entries()) await d.registerCall(id, `rtc_bench_${t0}_${i}`, `bench-${i}`);
  await d.advance(minutes * MIN);
  for (const id of ids) {
    const r = d.record(id);
    if (r?.workerId) await d.report(id, r.workerId, 'ended', 'caller hung up');
  }
  // Settle: ends, the resume window, supervisors retiring, the idle worker's supervisor retiring.
  await d.advance(15 * MIN);
  return { counters: diff(d.host.hub.counters, start), ms: d.host.hub.clock - t0 };
}

function figures(c: HubCounters) {
  return { 'work items': workItems(c), messages: c.messages, 'storage transactions': storageTransactions(c) };
}

async function measure(entry: string) {
  const d = await startDeployment({ entry, seed: 1, workers: 1, env: { HEARTBEAT_TIMEOUT_SECONDS: '15' } });
  try {
    const out: Record<string, unknown> = {};
    for (const minutes of [1, 60]) {
      const one = await window(d, 1, minutes);
      const ten = await window(d, 10, minutes);
      const perSession = diff(ten.counters, one.counters);
      const scale = (v: number) => v / 9;
      const s = figures(perSession);
      const single = figures(one.counters);
      out[minutes] = {
        session: Object.fromEntries(Object.entries(s).map(([k, v]) => [k, scale(v)])),
        worker: Object.fromEntries(
          Object.entries(single).map(([k, v]) => [k, v - scale((s as Record<string, number>)[k]!)]),
        ),
        windowMinutes: one.ms / MIN,
      };
    }
    return out;
  } finally {
    await d.close();
  }
}

function beforeBundle(): string | undefined {
  if (BEFORE === 'none') return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'durable-before-'));
  execFileSync('git', ['worktree', 'add', '--detach', dir, BEFORE], { stdio: 'pipe' });
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  execFileSync(process.execPath, ['scripts/bundle.mjs'], { cwd: dir, stdio: 'pipe' });
  const entry = join(dir, 'dist/functions/index.js');
  writeFileSync(join(dir, 'dist/functions/package.json'), '{"type":"module"}\n');
  process.on('exit', () => spawnSync('git', ['worktree', 'remove', '--force', dir]));
  return existsSync(entry) ? entry : undefined;
}

/** One bundle per process: the app reads its settings once, at import. */
function child(entry: string): Record<string, { session: Record<string, number>; worker: Record<string, number> }> {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/durable.ts', '--measure', entry], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: process.env,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`measurement failed: ${r.stderr.slice(-2000)}`);
  return JSON.parse(line.slice(7));
}

if (process.argv[2] === '--measure') {
  const out = await measure(process.argv[3]!);
  console.log(`RESULT ${JSON.stringify(out)}`);
  process.exit(0);
} else {
  const designs: [string, string | undefined][] = [
    ['after', buildFunctionsBundle()],
    ['before', beforeBundle()],
  ];
  const rows: Record<string, string | number>[] = [];
  const extra: Record<string, unknown> = {};
  for (const [design, entry] of designs) {
    if (!entry) continue;
    const m = child(entry);
    for (const minutes of ['1', '60']) {
      const s = m[minutes]!.session;
      rows.push({
        design,
        'call minutes': Number(minutes),
        'work items': Math.round(s['work items']!),
        messages: Math.round(s.messages!),
        'storage transactions': Math.round(s['storage transactions']!),
        counted: 'simulated (work items, messages); storage transactions estimated',
      });
    }
    const w60 = m['60']!.worker;
    rows.push({
      design,
      'call minutes': 'per worker per hour',
      'work items': Math.max(0, Math.round(w60['work items']!)),
      messages: Math.max(0, Math.round(w60.messages!)),
      'storage transactions': Math.max(0, Math.round(w60['storage transactions']!)),
      counted: 'one worker holding sessions for 60 min',
    });
    const s1 = m['1']!.session['work items']!;
    const s60 = m['60']!.session['work items']!;
    // The provider's documented ceiling: a storage account serves about 20,000 requests/s (scalability target).
    const perSessionHour = m['60']!.session['storage transactions']! + w60['storage transactions']! / 1000;
    extra[design] = {
      ratio60to1: s60 / s1,
      maxConcurrentSessions: Math.floor((20_000 * 3600) / perSessionHour),
      arithmetic:
        `20,000 storage requests/s × 3,600 s / (${Math.round(m['60']!.session['storage transactions']!)} per 60-min ` +
        `session + ${Math.round(w60['storage transactions']!)} per worker-hour / 1,000 sessions per worker)`,
    };
  }
  extra.idlePerHour = {
    storage: `${storageIdlePerHour(4, 5)} queue polls per Function app instance (4 control queues + work-item queue, 5 s max polling)`,
    dts: '0 storage transactions; Consumption SKU bills dispatched actions only',
  };
  report('durable', rows, extra);
  for (const [k, v] of Object.entries(extra)) console.log(k, JSON.stringify(v));
}
