import { randomUUID } from 'node:crypto';
import { loadAgentFiles } from '../../shared/agents/store';
import { buildSessionConfig } from '../../shared/agents/session-config';
import type { AgentDefinition } from '../../shared/agents/schema';
import type { CommonConfig } from '../../shared/config/index';
import { formatForJudge, judgeSystemPrompt } from '../../shared/judge/prompt';
import { loadRubric } from '../../shared/judge/rubric';
import { overallOf, parseVerdict } from '../../shared/judge/schema';
import { createToolGateway, type McpToolGateway } from '../../shared/mcp/gateway';
import { callerIdentityFor, identityKey, SessionCaller } from '../../shared/mcp/identity';
import { createTextModel } from '../../shared/memory/text-model';
import type { TranscriptItem } from '../../shared/memory/types';
import type { ToolCall } from '../../shared/mcp/types';
import { createProvider } from '../../shared/providers/index';
import { protocolFor } from '../../shared/realtime/protocol';
import { percentile } from '../../shared/telemetry/turn-latency';
import { checkTurn, type Check, type TurnRecord } from './checks';
import { Conversation } from './conversation';
import { callControl } from './call-control';
import { keypadNote } from '../../shared/agents/call-tools';
import { LiveConversation } from './live-conversation';
import type { Scenario, Suite } from './suite';

export type TargetConfig = Pick<
  CommonConfig,
  | 'REALTIME_PROVIDER'
  | 'REALTIME_ENDPOINT'
  | 'REALTIME_API_KEY'
  | 'REALTIME_MODEL'
  | 'REALTIME_API_VERSION'
  | 'JUDGE_MODEL'
> & {
  MCP_BUILTIN_URL?: string;
  MCP_TOOL_TIMEOUT_MS?: number;
  WORKER_AUTH_SECRET?: string;
  /** `live`: the Responses model its delegation runs tools with. */
  TEXT_MODEL?: string;
};

export interface TurnResult extends TurnRecord {
  checks: Check[];
  passed: boolean;
}

export interface ScenarioResult {
  suite: string;
  id: string;
  description: string;
  mode: 'text' | 'audio';
  speech?: { voice: string; wpm: number; noise: number };
  passed: boolean;
  /** The suite is wrong on purpose: this scenario is fine when it FAILS. */
  expectedFailure: boolean;
  /** passed, or failed as expected. */
  ok: boolean;
  durationMs: number;
  turns: TurnResult[];
  judge?: { overall: number; scores: Record<string, number>; summary: string } | { error: string };
  error?: string;
}

export interface EvalReport {
  generatedAt: string;
  target: { provider: string; endpoint: string; model: string };
  summary: {
    scenarios: number;
    passed: number;
    failed: number;
    expectedFailures: number;
    unexpected: number;
    ok: boolean;
    turns: number;
    firstResponseMs: { p50?: number; p95?: number; max?: number };
    totalMs: { p50?: number; p95?: number; max?: number };
    durationMs: number;
  };
  scenarios: ScenarioResult[];
}

export interface RunOptions {
  config: TargetConfig;
  /** Score each scenario's transcript with the judge model (informational; never fails a scenario). */
  judge?: boolean;
  agentsDir?: string;
  realtimePacing?: boolean;
  turnTimeoutMs?: number;
  log?: (line: string) => void;
}

/** Host only: endpoints can carry a resource name but never a key; still, keep the report minimal. */
const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid';
  }
};

export async function runEvals(suites: Suite[], opts: RunOptions): Promise<EvalReport> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  const agents = new Map((await loadAgentFiles(opts.agentsDir ?? 'agents')).map((a) => [a.id, a]));
  const provider = createProvider(opts.config);
  const gateway = createToolGateway({
    MCP_BUILTIN_URL: opts.config.MCP_BUILTIN_URL,
    MCP_TOOL_TIMEOUT_MS: opts.config.MCP_TOOL_TIMEOUT_MS,
    WORKER_AUTH_SECRET: opts.config.WORKER_AUTH_SECRET,
  });
  const results: ScenarioResult[] = [];
  try {
    for (const suite of suites) {
      const agent = agents.get(suite.agent);
      for (const scenario of suite.scenarios) {
        const r = agent
          ? await runScenario(suite, scenario, agent, { ...opts, provider, gateway, agents })
          : failedScenario(suite, scenario, `agent ${suite.agent} not found in agents/`);
        log(
          `${r.ok ? 'ok  ' : 'FAIL'} ${suite.name} / ${scenario.id}${r.expectedFailure ? ' (expected to fail: ' + (r.passed ? 'passed!' : 'failed') + ')' : ''}`,
        );
        results.push(r);
      }
    }
  } finally {
    await gateway.close();
  }
  return buildReport(results, opts.config, performance.now() - started);
}

function failedScenario(suite: Suite, scenario: Scenario, error: string): ScenarioResult {
  return {
    suite: suite.name,
    id: scenario.id,
    description: scenario.description,
    mode: scenario.mode,
    passed: false,
    expectedFailure: suite.expectFailure,
    ok: suite.expectFailure,
    durationMs: 0,
    turns: [],
    error,
  };
}

async function runScenario(
  suite: Suite,
  scenario: Scenario,
  agent: AgentDefinition,
  ctx: RunOptions & {
    provider: ReturnType<typeof createProvider>;
    gateway: McpToolGateway;
    agents: ReadonlyMap<string, AgentDefinition>;
  },
): Promise<ScenarioResult> {
  const t0 = performance.now();
  let conversation: Conversation | LiveConversation | undefined;
  const turns: TurnResult[] = [];
  try {
    const sessionFor = async (a: AgentDefinition) =>
      buildSessionConfig(a, await ctx.gateway.toolsFor(a), {
        model: ctx.config.REALTIME_MODEL,
        transport: suite.transport,
      });
    const session = await sessionFor(agent);
    const ws = await ctx.provider.openDirect(session.model ?? ctx.config.REALTIME_MODEL);
    // Tools act for the scenario's signed-in caller, as they would in a real session (orders have owners).
    const caller = ctx.config.WORKER_AUTH_SECRET
      ? new SessionCaller(
          callerIdentityFor({
            sessionId: randomUUID(),
            agentId: agent.id,
            userId: scenario.caller ?? suite.caller ?? 'eval-user',
            // A phone suite's caller is a number, verified only by the agent's own check.
            transport: suite.transport === 'sip' ? 'sip' : 'websocket',
          }),
          identityKey(ctx.config.WORKER_AUTH_SECRET),
        )
      : undefined;
    const calls = callControl({
      agents: ctx.agents,
      start: agent,
      apply: async (a) => {
        const next = await sessionFor(a);
        await (conversation as Conversation).applySession(next);
        return next;
      },
      runTool: (a, call) => ctx.gateway.run(a, call, undefined, caller),
    });
    const options = {
      agent,
      session,
      runTool: (call: ToolCall) => calls.run(call),
      realtimePacing: ctx.realtimePacing,
      protocol: protocolFor(ctx.config.REALTIME_PROVIDER),
      turnTimeoutMs: ctx.turnTimeoutMs,
    };
    // Live: the primary WebSocket with its own session start; typed turns are spoken (Live takes audio only).
    conversation =
      ctx.config.REALTIME_PROVIDER === 'live'
        ? new LiveConversation(ws, { ...options, delegationModel: ctx.config.TEXT_MODEL ?? 'gpt-4.1-mini' })
        : new Conversation(ws, options);
    await conversation.start();
    for (const turn of scenario.turns) {
      const record =
        scenario.mode === 'audio'
          ? await conversation.audioTurn(turn.user ?? '', scenario.speech)
          : await conversation.textTurn(turn.keys ? keypadNote(turn.keys) : (turn.user ?? ''));
      const checks = checkTurn(turn.expect, record, scenario.forbiddenTools);
      turns.push({ ...record, checks, passed: checks.every((c) => c.passed) });
      if (record.error) break; // a broken session says nothing about later turns
    }
  } catch (err) {
    const r = failedScenario(suite, scenario, (err as Error).message);
    return { ...r, turns, durationMs: Math.round(performance.now() - t0) };
  } finally {
    conversation?.close();
  }
  const passed = turns.length === scenario.turns.length && turns.every((t) => t.passed);
  const result: ScenarioResult = {
    suite: suite.name,
    id: scenario.id,
    description: scenario.description,
    mode: scenario.mode,
    ...(scenario.mode === 'audio' ? { speech: scenario.speech } : {}),
    passed,
    expectedFailure: suite.expectFailure,
    ok: suite.expectFailure ? !passed : passed,
    durationMs: Math.round(performance.now() - t0),
    turns,
  };
  if (ctx.judge) result.judge = await judgeTurns(agent, turns, ctx.config);
  return result;
}

/** The LLM-as-judge over the scenario's transcript, exactly as a real session is judged (shared/judge). */
async function judgeTurns(
  agent: AgentDefinition,
  turns: TurnResult[],
  config: TargetConfig,
): Promise<ScenarioResult['judge']> {
  const items: TranscriptItem[] = [];
  let n = 0;
  const push = (role: TranscriptItem['role'], text: string, toolName?: string) =>
    items.push({
      itemId: `eval_${n}`,
      sessionId: 'eval',
      agentId: agent.id,
      role,
      text,
      at: n++,
      ...(toolName ? { toolName } : {}),
    });
  for (const t of turns) {
    push('user', t.heard ?? t.user);
    for (const c of t.toolCalls) push('tool', c.output, c.name);
    if (t.answer) push('assistant', t.answer);
  }
  try {
    const rubric = await loadRubric(agent);
    const model = createTextModel({ ...config, TEXT_MODEL: config.JUDGE_MODEL });
    const verdict = parseVerdict(
      await model.complete([
        { role: 'system', content: judgeSystemPrompt(rubric.text) },
        { role: 'user', content: formatForJudge(items) },
      ]),
    );
    return {
      overall: overallOf(verdict),
      scores: Object.fromEntries(Object.entries(verdict.scores).map(([k, v]) => [k, v.score])),
      summary: verdict.summary,
    };
  } catch (err) {
    return { error: (err as Error).message.slice(0, 300) };
  }
}

function stats(values: number[]) {
  return {
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    max: values.length ? Math.max(...values) : undefined,
  };
}

export function buildReport(results: ScenarioResult[], config: TargetConfig, durationMs: number): EvalReport {
  const turns = results.flatMap((r) => (r.expectedFailure ? [] : r.turns));
  const first = turns.flatMap((t) => (t.latency.firstResponseMs === undefined ? [] : [t.latency.firstResponseMs]));
  const total = turns.flatMap((t) => (t.latency.totalMs === undefined ? [] : [t.latency.totalMs]));
  const regular = results.filter((r) => !r.expectedFailure);
  const negatives = results.filter((r) => r.expectedFailure);
  return {
    generatedAt: new Date().toISOString(),
    target: {
      provider: config.REALTIME_PROVIDER,
      endpoint: hostOf(config.REALTIME_ENDPOINT),
      model: config.REALTIME_MODEL,
    },
    summary: {
      scenarios: regular.length,
      passed: regular.filter((r) => r.passed).length,
      failed: regular.filter((r) => !r.passed).length,
      expectedFailures: negatives.length,
      unexpected: results.filter((r) => !r.ok).length,
      ok: results.every((r) => r.ok),
      turns: turns.length,
      firstResponseMs: stats(first),
      totalMs: stats(total),
      durationMs: Math.round(durationMs),
    },
    scenarios: results,
  };
}
