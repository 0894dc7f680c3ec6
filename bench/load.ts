import { startStack } from '../dev/stack';
import { runLoad } from '../test/reliability/load-driver';
import { percentile, report } from './report';

/**
 * LOAD_SESSIONS (default 1,000) phone sessions with a tool call each through the whole local stack, at each
 * level of LOAD_CONCURRENCY (default `100,200` in flight at once, one level after the other on one stack);
 * exits 1 on any error or lost transcript item at any level.
 * The CI-sized run of the same driver is test/reliability/load.test.ts.
 */
const SESSIONS = Number(process.env.LOAD_SESSIONS ?? 1000);
const LEVELS = (process.env.LOAD_CONCURRENCY ?? '100,200').split(',').map(Number);

async function main() {
  const stack = await startStack({ ports: 'free', log: process.env.STACK_LOG ? console.log : undefined });
  let failed = false;
  try {
    const rows: Record<string, string | number>[] = [];
    const details: Record<string, unknown> = {};
    for (const concurrency of LEVELS) {
      const r = await runLoad(stack, { sessions: SESSIONS, concurrency, log: console.log });
      failed ||=
        r.errors.length + r.lost.length + r.duplicates.length + r.notEnded.length + r.undeliveredToolRuns > 0 ||
        r.toolOutputs !== SESSIONS;
      rows.push({
        sessions: SESSIONS,
        concurrency,
        'wall s': r.wallMs / 1000,
        'sessions/s': SESSIONS / (r.wallMs / 1000),
        'session p50 ms': percentile(r.sessionMs, 50),
        'session p99 ms': percentile(r.sessionMs, 99),
        errors: r.errors.length,
        'tool outputs': r.toolOutputs,
        'items expected': r.expectedItems,
        'history rows': r.historyRows,
        lost: r.lost.length,
        duplicated: r.duplicates.length,
        'not ended': r.notEnded.length,
        'undelivered runs': r.undeliveredToolRuns,
      });
      details[`level ${concurrency}`] = {
        errors: r.errors.slice(0, 20),
        lost: r.lost.slice(0, 20),
        notEnded: r.notEnded.slice(0, 20),
      };
    }
    report('load', rows, {
      flow: 'SIP call rings (signed webhook → accept → lifecycle attach → worker sideband); a caller client asks about order 1234 (get_order over MCP); hangup; then every session must be ended and its history must equal the emulator conversation',
      workers: stack.workers?.replicas.length,
      ...details,
    });
  } finally {
    await stack.stop();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
