import type { ChatCompletion, ChatCompletionCreateParamsNonStreaming } from 'openai/resources/chat/completions';
import { MEMORY_PROMPT_MARKER } from '../../shared/memory/summarize';
import { summarizeFacts } from './memory-facts';
import { deterministicVerdict } from './judge-verdict';
import { JUDGE_PROMPT_MARKER } from '../../shared/judge/prompt';
import { newId } from './protocol';

/**
 * The emulator's text model (`POST …/chat/completions`): deterministic answers from a rule registry. A rule
 * fires when its marker appears in the system/developer prompt; other modules (summaries, the LLM judge)
 * register their own rules with `registerTextRule`. With no rule, the answer is an extractive summary of
 * what the user said.
 */
export type ChatRequest = ChatCompletionCreateParamsNonStreaming;

export interface TextRule {
  id: string;
  /** Substring (case-insensitive) or regex looked for in the system and developer messages. */
  marker: string | RegExp;
  /** Text, or an object sent as JSON text. */
  respond(req: ChatRequest, ctx: { system: string; user: string[] }): string | object;
}

const rules: TextRule[] = [];

// Conversation memory summaries (shared/memory/summarize.ts): deterministic "- Key: value" facts extracted
// from what the user said, merged newest-wins, so tests can check that facts carry over between sessions.
rules.push({
  id: 'memory-summary',
  marker: MEMORY_PROMPT_MARKER,
  respond: (_req, ctx) => summarizeFacts(ctx.user.join('\n')),
});

// LLM-as-judge (shared/judge): a verdict computed from the transcript (first user message), so scores differ
// between a good and a bad conversation and the judge's parsing/storage is exercised end to end.
rules.push({
  id: 'llm-judge',
  marker: JUDGE_PROMPT_MARKER,
  respond: (_req, ctx) => deterministicVerdict(ctx.user[0] ?? ''),
});

/** Adds (or replaces, by id) a rule; later rules win over earlier ones. Returns a function removing it. */
export function registerTextRule(rule: TextRule): () => void {
  const i = rules.findIndex((r) => r.id === rule.id);
  if (i >= 0) rules.splice(i, 1);
  rules.push(rule);
  return () => {
    const j = rules.indexOf(rule);
    if (j >= 0) rules.splice(j, 1);
  };
}

export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .map((p) => (p && typeof p === 'object' && 'text' in p ? String((p as { text: unknown }).text) : ''))
      .join(' ');
  return '';
}

export function completeChat(req: ChatRequest): ChatCompletion {
  const system = req.messages
    .filter((m) => m.role === 'system' || m.role === 'developer')
    .map((m) => textOf(m.content))
    .join('\n');
  const user = req.messages.filter((m) => m.role === 'user').map((m) => textOf(m.content));
  const ctx = { system, user };
  const rule = [...rules]
    .reverse()
    .find((r) =>
      typeof r.marker === 'string' ? system.toLowerCase().includes(r.marker.toLowerCase()) : r.marker.test(system),
    );
  const answer: unknown = rule ? rule.respond(req, ctx) : defaultAnswer(req, ctx);
  const content = typeof answer === 'string' ? answer : JSON.stringify(answer);
  const promptChars = req.messages.reduce((n, m) => n + textOf(m.content).length, 0);
  const prompt_tokens = Math.ceil(promptChars / 4);
  const completion_tokens = Math.ceil(content.length / 4);
  return {
    id: newId('chatcmpl', 24),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: req.model,
    choices: [
      { index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content, refusal: null } },
    ],
    usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens },
  };
}

function defaultAnswer(req: ChatRequest, ctx: { user: string[] }): unknown {
  const summary = extractiveSummary(ctx.user.join('\n'));
  const fmt = req.response_format;
  if (fmt?.type === 'json_schema') return fromSchema(fmt.json_schema.schema, summary);
  if (fmt?.type === 'json_object') return { summary };
  return summary;
}

/**
 * Picks the user's own sentences: lines of a "role: text" transcript spoken by the user when the input is
 * one, otherwise every sentence; at most three, the ones with the most content words first, in their order.
 */
export function extractiveSummary(text: string, max = 3): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const userLines = lines.filter((l) => /^(user|caller|customer)\s*:/i.test(l)).map((l) => l.replace(/^[^:]+:\s*/, ''));
  const source = userLines.length ? userLines : lines.filter((l) => !/^(assistant|agent|system)\s*:/i.test(l));
  const sentences = source
    .flatMap((l) => l.match(/[^.!?]+[.!?]?/g) ?? [])
    .map((s) => s.trim())
    .filter((s) => s.length > 2);
  if (!sentences.length) return 'No user messages to summarize.';
  const score = (s: string) => (s.match(/\b[\p{L}\p{N}]{4,}\b/gu) ?? []).length + (/\d/.test(s) ? 2 : 0);
  const picked = sentences
    .map((s, i) => ({ s, i, score: score(s) }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, max)
    .sort((a, b) => a.i - b.i)
    .map((x) => (/[.!?]$/.test(x.s) ? x.s : `${x.s}.`));
  return `The user said: ${picked.join(' ')}`;
}

/** A value satisfying a JSON schema, built deterministically: strings carry the summary. */
function fromSchema(schema: unknown, summary: string): unknown {
  const s = (schema ?? {}) as Record<string, unknown>;
  if (Array.isArray(s.enum)) return s.enum[0];
  if ('const' in s) return s.const;
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, fromSchema(v, summary)]));
    }
    case 'array':
      return [fromSchema(s.items, summary)];
    case 'number':
    case 'integer':
      return typeof s.minimum === 'number' ? s.minimum : 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return summary;
  }
}
