import { startStack, type Stack } from '../dev/stack';
import type { TableCall } from '../dev/table-proxy';
import { percentile, report } from './report';
import { webrtcSessionWithTool } from './storage-session';

/**
 * Storage transactions per session, counted at Azurite by the table proxy (a `$batch` is one transaction, as
 * billed). STORAGE_BENCH_SESSIONS complete WebRTC sessions (default 5) run one after another through the whole
 * local stack; each one's calls are the ones made from POST /api/sessions until the stack is quiet again after
 * `ended` (transcript batches, post-session summary). The idle background (no session) is measured first.
 */
const SESSIONS = Number(process.env.STORAGE_BENCH_SESSIONS ?? 5);

const key = (c: TableCall) => `${c.kind} ${c.table}`;

/** Waits until no storage call happened for `quietMs`. */
async function quiet(stack: Stack, quietMs: number, maxMs = 20_000) {
  const proxy = stack.storage!.proxy!;
  const end = Date.now() + maxMs;
  let n = proxy.calls.length;
  let since = Date.now();
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    if (proxy.calls.length !== n) {
      n = proxy.calls.length;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
}

async function main() {
  const stack = await startStack({
    ports: 'free',
    countStorage: true,
    log: process.env.STACK_LOG ? console.log : undefined,
  });
  const proxy = stack.storage!.proxy!;
  try {
    // Warm-up session (agent cache, tables checked), not counted.
    await webrtcSessionWithTool(stack, 'storage-bench-warmup');
    await quiet(stack, 2000);

    proxy.reset();
    const idleMs = 10_000;
    await new Promise((r) => setTimeout(r, idleMs));
    const idle = proxy.calls.length;

    const perSession: Record<string, number>[] = [];
    const trace: string[] = [];
    const phases: Record<string, number>[] = [];
    const durations: number[] = [];
    const rows: number[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      proxy.reset();
      const out = await webrtcSessionWithTool(stack, `storage-bench-${i}`);
      await quiet(stack, 2000);
      const counts: Record<string, number> = {};
      for (const c of proxy.calls) counts[key(c)] = (counts[key(c)] ?? 0) + 1;
      const failed = proxy.calls.filter((c) => c.status >= 500).length;
      if (failed) console.error(`session ${i}: ${failed} storage call(s) answered 5xx`);
      perSession.push(counts);
      // Phases by time (observation polls every 50 ms, so a call at a boundary may land one phase early).
      const { liveAt, hangupAt } = out.marks;
      const phase = (at = 0) =>
        at <= liveAt ? 'start → live' : at <= hangupAt ? 'conversation (tool turn)' : 'hangup → ended + post-session';
      const ph: Record<string, number> = {};
      for (const c of proxy.calls) ph[phase(c.at)] = (ph[phase(c.at)] ?? 0) + 1;
      phases.push(ph);
      // One session's calls in order (keys shortened), so each transaction can be traced to the code making it.
      if (i === 0)
        trace.push(
          ...proxy.calls.map(
            (c) =>
              `${c.status} ${c.method} ${(c.path ?? '')
                .replace(/^\/devstoreaccount1\//, '')
                .replace(/\?.*$/, '')
                .slice(0, 110)}${c.kind === 'batch' ? ` (${c.table})` : ''}`,
          ),
        );
      durations.push(out.ms);
      rows.push(out.historyRows);
    }

    const keys = [...new Set(perSession.flatMap((c) => Object.keys(c)))].sort();
    const med = (k: string) =>
      percentile(
        perSession.map((c) => c[k] ?? 0),
        50,
      );
    const table = keys.map((k) => ({
      'kind table': k,
      'per session (median)': med(k),
      min: Math.min(...perSession.map((c) => c[k] ?? 0)),
      max: Math.max(...perSession.map((c) => c[k] ?? 0)),
    }));
    const totals = perSession.map((c) => Object.values(c).reduce((a, b) => a + b, 0));
    const history = perSession.map((c) =>
      Object.entries(c)
        .filter(([k]) => / history$/.test(k) && k.startsWith('batch'))
        .reduce((a, [, v]) => a + v, 0),
    );
    const total = percentile(totals, 50);
    const transcriptBatches = percentile(history, 50);
    for (const p of ['start → live', 'conversation (tool turn)', 'hangup → ended + post-session']) {
      const v = phases.map((x) => x[p] ?? 0);
      table.push({
        'kind table': `phase: ${p}`,
        'per session (median)': percentile(v, 50),
        min: Math.min(...v),
        max: Math.max(...v),
      });
    }
    table.push({
      'kind table': 'TOTAL',
      'per session (median)': total,
      min: Math.min(...totals),
      max: Math.max(...totals),
    });
    table.push({
      'kind table': 'total minus transcript batches',
      'per session (median)': total - transcriptBatches,
      min: Math.min(...totals.map((t, i) => t - history[i]!)),
      max: Math.max(...totals.map((t, i) => t - history[i]!)),
    });
    report('storage', table, {
      sessions: SESSIONS,
      flow: 'WebRTC: POST /api/sessions → offer → POST /call → worker attached → typed turn with a get_order tool call → hangup → ended (+ post-session work until 2 s quiet)',
      sessionMs: { p50: percentile(durations, 50), max: Math.max(...durations) },
      historyRowsPerSession: rows,
      idleCallsPer10s: idle,
      target: '≤ 10 plus batched transcript writes',
      perSession,
      trace,
    });
    console.log(`\nfirst session's storage calls in order:\n  ${trace.join('\n  ')}`);
    console.log(`idle background: ${idle} storage calls in ${idleMs / 1000} s with no session`);
  } finally {
    await stack.stop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
