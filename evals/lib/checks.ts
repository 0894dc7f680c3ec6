import type { ToolExpectation, TurnExpectation } from './suite';

export interface ToolCallRecord {
  /** As the model called it (may be namespaced `<server>__<tool>`). */
  name: string;
  /** Arguments parsed from JSON, or the raw text when it was not JSON. */
  arguments: unknown;
  output: string;
  isError: boolean;
  durationMs: number;
}

export interface TurnRecord {
  user: string;
  /** Audio mode: the service's transcript of what was spoken. */
  heard?: string;
  /** Everything the assistant said in the turn (audio transcripts and/or text). */
  answer: string;
  toolCalls: ToolCallRecord[];
  latency: { firstResponseMs?: number; totalMs?: number };
  /** A transport/protocol failure (timeout, error event) — fails the turn. */
  error?: string;
}

export interface Check {
  name: string;
  passed: boolean;
  detail: string;
}

/** `builtin__get_order` and `get_order` are the same tool for expectations. */
export const bareToolName = (name: string) => name.split('__').pop() ?? name;

const norm = (v: unknown) => (typeof v === 'string' ? v.trim().toLowerCase() : JSON.stringify(v));

function argumentsMatch(expected: Record<string, unknown>, actual: unknown): string | undefined {
  if (!actual || typeof actual !== 'object') return `arguments are not a JSON object: ${String(actual).slice(0, 80)}`;
  for (const [k, v] of Object.entries(expected)) {
    const got = (actual as Record<string, unknown>)[k];
    if (got === undefined) return `argument ${k} missing`;
    if (norm(got) !== norm(v)) return `argument ${k} is ${JSON.stringify(got)}, expected ${JSON.stringify(v)}`;
  }
  return undefined;
}

function toolCallCheck(expected: ToolExpectation, calls: ToolCallRecord[]): Check {
  const name = `tool ${expected.name}`;
  const candidates = calls.filter((c) => bareToolName(c.name) === expected.name);
  if (candidates.length === 0) {
    const made = calls.map((c) => bareToolName(c.name)).join(', ') || 'none';
    return { name, passed: false, detail: `not called (calls made: ${made})` };
  }
  if (!expected.arguments) return { name, passed: true, detail: 'called' };
  const problems = candidates.map((c) => argumentsMatch(expected.arguments!, c.arguments));
  if (problems.some((p) => p === undefined))
    return { name, passed: true, detail: `called with ${JSON.stringify(expected.arguments)}` };
  return { name, passed: false, detail: problems[0]! };
}

/** Every check a turn's expectations imply, passed or not (the report shows all of them). */
export function checkTurn(expect: TurnExpectation, turn: TurnRecord, scenarioForbidden: string[] = []): Check[] {
  const checks: Check[] = [];
  if (turn.error) checks.push({ name: 'turn completed', passed: false, detail: turn.error });
  for (const t of expect.toolCalls) checks.push(toolCallCheck(t, turn.toolCalls));
  if (expect.noToolCalls) {
    const made = turn.toolCalls.map((c) => bareToolName(c.name));
    checks.push({
      name: 'no tool calls',
      passed: made.length === 0,
      detail: made.length ? `called ${made.join(', ')}` : 'none made',
    });
  }
  for (const f of new Set([...expect.forbiddenTools, ...scenarioForbidden])) {
    const hit = turn.toolCalls.some((c) => bareToolName(c.name) === f);
    checks.push({ name: `forbidden ${f}`, passed: !hit, detail: hit ? `${f} was called` : 'not called' });
  }
  const answer = turn.answer.toLowerCase();
  for (const c of expect.answer.contains) {
    const ok = answer.includes(c.toLowerCase());
    checks.push({
      name: `answer contains "${c}"`,
      passed: ok,
      detail: ok ? 'yes' : `answer: "${turn.answer.slice(0, 160)}"`,
    });
  }
  if (expect.answer.anyOf.length) {
    const found = expect.answer.anyOf.find((c) => answer.includes(c.toLowerCase()));
    checks.push({
      name: `answer has one of ${expect.answer.anyOf.map((a) => `"${a}"`).join(', ')}`,
      passed: Boolean(found),
      detail: found ? `"${found}"` : `answer: "${turn.answer.slice(0, 160)}"`,
    });
  }
  for (const c of expect.answer.notContains) {
    const bad = answer.includes(c.toLowerCase());
    checks.push({
      name: `answer lacks "${c}"`,
      passed: !bad,
      detail: bad ? `answer: "${turn.answer.slice(0, 160)}"` : 'yes',
    });
  }
  if (expect.answer.matches) {
    const ok = new RegExp(expect.answer.matches, 'i').test(turn.answer);
    checks.push({
      name: `answer matches /${expect.answer.matches}/`,
      passed: ok,
      detail: ok ? 'yes' : `answer: "${turn.answer.slice(0, 160)}"`,
    });
  }
  if (expect.heard !== undefined) {
    const ok = (turn.heard ?? '').toLowerCase().includes(expect.heard.toLowerCase());
    checks.push({ name: `heard "${expect.heard}"`, passed: ok, detail: `transcript: "${turn.heard ?? '(none)'}"` });
  }
  const budget = (name: string, limit: number | undefined, value: number | undefined) => {
    if (limit === undefined) return;
    const ok = value !== undefined && value <= limit;
    checks.push({
      name: `${name} ≤ ${limit} ms`,
      passed: ok,
      detail: value === undefined ? 'not measured' : `${value} ms`,
    });
  };
  budget('first response', expect.latencyMs.firstResponse, turn.latency.firstResponseMs);
  budget('turn total', expect.latencyMs.total, turn.latency.totalMs);
  return checks;
}
