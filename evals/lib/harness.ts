import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { startStack, type Stack } from '../../dev/stack';
import { PROVIDERS } from '../../shared/config/index';
import { renderHtmlReport } from './report-html';
import { runEvals, type EvalReport, type TargetConfig } from './runner';
import { loadSuites } from './suite';

export interface HarnessOptions {
  /** Suite files or directories (default: evals/, i.e. evals/*.json). */
  suites?: string[];
  outDir?: string;
  /** `local`: start the local stack on free ports; `env`: a real endpoint from REALTIME_* / MCP_BUILTIN_URL. */
  target?: 'local' | 'env';
  judge?: boolean;
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface HarnessResult {
  report: EvalReport;
  jsonPath: string;
  htmlPath: string;
}

/** What `EVAL_TARGET=env` reads: the same setting names as the apps. */
const envTargetSchema = z.object({
  REALTIME_PROVIDER: z.enum(PROVIDERS),
  REALTIME_ENDPOINT: z.string().url(),
  REALTIME_API_KEY: z.string().min(1).optional(),
  REALTIME_MODEL: z.string().min(1).default('gpt-realtime'),
  REALTIME_API_VERSION: z.string().min(1).default('2025-10-01'),
  JUDGE_MODEL: z.string().min(1).default('gpt-4.1-mini'),
  TEXT_MODEL: z.string().min(1).optional(),
  MCP_BUILTIN_URL: z.string().url().optional(),
  /** The built-in MCP server runs tools only for a caller signed with the apps' shared secret. */
  WORKER_AUTH_SECRET: z.string().min(16).optional(),
});

export function envTarget(env: NodeJS.ProcessEnv): TargetConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envTargetSchema.safeParse(cleaned);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new Error(`EVAL_TARGET=env: ${String(i.path[0] ?? '')}: ${i.message}`);
  }
  return parsed.data;
}

/**
 * Runs the suites and writes `eval-report.json` and `eval-report.html` to `outDir`. The local target is the
 * whole local stack (Azurite, realtime emulator, Function app with the built-in MCP server, worker), each
 * scenario a direct realtime WebSocket session with the agent's own session config and tools.
 */
export async function runHarness(opts: HarnessOptions = {}): Promise<HarnessResult> {
  const log = opts.log ?? (() => {});
  const env = opts.env ?? process.env;
  const suites = await loadSuites(opts.suites ?? ['evals']);
  if (suites.length === 0) throw new Error('no eval suites found');
  const target = opts.target ?? (env.EVAL_TARGET === 'env' ? 'env' : 'local');
  let stack: Stack | undefined;
  let config: TargetConfig;
  if (target === 'env') {
    config = envTarget(env);
  } else {
    // One worker replica is enough: the evals talk to the emulator directly and run tools through MCP.
    stack = await startStack({ ports: 'free', env: { ...stripTarget(env), WORKER_REPLICAS: '1' } });
    config = {
      // REALTIME_EMULATOR_PROFILE (say voice-live) makes the stack run that service's provider against the
      // emulator in that profile; the evals follow it, speaking that provider's protocol.
      REALTIME_PROVIDER: PROVIDERS.find((p) => p === stack!.env.REALTIME_PROVIDER) ?? 'emulator',
      REALTIME_ENDPOINT: stack.env.REALTIME_ENDPOINT!,
      REALTIME_API_KEY: stack.env.REALTIME_API_KEY,
      REALTIME_MODEL: stack.env.REALTIME_MODEL ?? 'gpt-realtime',
      REALTIME_API_VERSION: stack.env.REALTIME_API_VERSION ?? '2025-10-01',
      JUDGE_MODEL: stack.env.JUDGE_MODEL ?? 'gpt-4.1-mini',
      MCP_BUILTIN_URL: stack.env.MCP_BUILTIN_URL,
      WORKER_AUTH_SECRET: stack.env.WORKER_AUTH_SECRET,
      TEXT_MODEL: stack.env.TEXT_MODEL,
    };
    log(`local stack up: realtime emulator ${config.REALTIME_ENDPOINT}, MCP ${config.MCP_BUILTIN_URL}`);
  }
  try {
    const report = await runEvals(suites, { config, judge: opts.judge ?? true, realtimePacing: target === 'env', log });
    const outDir = resolve(opts.outDir ?? 'evals/out');
    await mkdir(outDir, { recursive: true });
    const jsonPath = join(outDir, 'eval-report.json');
    const htmlPath = join(outDir, 'eval-report.html');
    await writeFile(jsonPath, JSON.stringify(report, null, 2));
    await writeFile(htmlPath, renderHtmlReport(report));
    return { report, jsonPath, htmlPath };
  } finally {
    await stack?.stop();
  }
}

/** The local stack must talk to its own emulator, whatever REALTIME_* the shell has. */
function stripTarget(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const k of [
    'REALTIME_PROVIDER',
    'REALTIME_ENDPOINT',
    'REALTIME_API_KEY',
    'MCP_BUILTIN_URL',
    'WORKER_AUTH_SECRET',
    'STORAGE_CONNECTION_STRING',
    'STORAGE_TABLE_ENDPOINT',
  ])
    delete out[k];
  return out;
}
