import { parseArgs } from 'node:util';
import { runHarness } from './lib/harness';

/**
 * `npm run eval` — runs the scenario suites (evals/*.json) against the local stack, or against a real
 * endpoint with EVAL_TARGET=env, and writes evals/out/eval-report.{json,html}. Exit code 1 when any scenario
 * ends unexpectedly (a shipped scenario failing, or a deliberately wrong one passing).
 *
 *   npm run eval                          # evals/*.json
 *   npm run eval -- --negative            # also evals/negative/*.json (must fail)
 *   npm run eval -- --suite evals/concierge.json --no-judge --out /tmp/evals
 */
const { values } = parseArgs({
  options: {
    suite: { type: 'string', multiple: true },
    negative: { type: 'boolean', default: false },
    out: { type: 'string', default: 'evals/out' },
    'no-judge': { type: 'boolean', default: false },
  },
});

const suites = [...(values.suite?.length ? values.suite : ['evals']), ...(values.negative ? ['evals/negative'] : [])];
try {
  const { report, jsonPath, htmlPath } = await runHarness({
    suites,
    outDir: values.out,
    judge: !values['no-judge'],
    log: (l) => console.log(l),
  });
  const s = report.summary;
  console.log('');
  console.log(
    `scenarios ${s.passed}/${s.scenarios} passed, ${s.expectedFailures} deliberately wrong, ${s.unexpected} unexpected`,
  );
  console.log(
    `first response p50 ${s.firstResponseMs.p50 ?? '-'} ms, p95 ${s.firstResponseMs.p95 ?? '-'} ms; turn total p50 ${s.totalMs.p50 ?? '-'} ms, p95 ${s.totalMs.p95 ?? '-'} ms`,
  );
  console.log(`reports: ${jsonPath}\n         ${htmlPath}`);
  process.exitCode = s.ok ? 0 : 1;
} catch (err) {
  console.error(`eval failed to run: ${(err as Error).message}`);
  process.exitCode = 2;
}
