import type { ConversationItem } from 'openai/resources/realtime/realtime';
import {
  applicableScenarios,
  matchRule,
  parseJson,
  renderTemplate,
  resolveTool,
  type Rule,
  type Scenario,
} from './scenarios';

/** What the scripted model does for one response. */
export type Decision =
  | { kind: 'say'; text: string; answers?: string[] }
  | { kind: 'call'; name: string; arguments: string; pending: PendingCall };

/** Remembered per function call so the answer after its output can use the rule and the user's words. */
export interface PendingCall {
  rule: Rule;
  groups: Record<string, string>;
}

export interface ModelContext {
  items: ConversationItem[];
  /** Function tool names the session (or this response) declares. */
  tools: string[];
  instructions: string;
  /** Calls this model made, by call_id. */
  calls: Map<string, PendingCall>;
  /** Call ids whose outputs an earlier response already answered. */
  answered?: ReadonlySet<string>;
  /** `response.create`'s own instructions, if any: `Say: "…"` in them is said word for word. */
  responseInstructions?: string;
  /** From `tool_choice`: `true` = some tool must be called (`required`), a name = that function. */
  forceTool?: string | true;
}

const DEFAULT_GREETING = 'Hello! How can I help you today?';
const DEFAULT_FALLBACK = "Sorry, I didn't catch that. Could you say it another way?";
const ANYTHING_ELSE = 'Is there anything else I can help you with?';
export const INAUDIBLE = '[inaudible]';

/** Text of a user message: typed text and audio transcripts, in order. */
export function userText(item: ConversationItem): string {
  if (item.type !== 'message' || item.role !== 'user') return '';
  return item.content
    .map((c) => (c.type === 'input_text' ? (c.text ?? '') : c.type === 'input_audio' ? (c.transcript ?? '') : ''))
    .filter(Boolean)
    .join(' ')
    .trim();
}

function hasImage(item: ConversationItem): boolean {
  return item.type === 'message' && item.role === 'user' && item.content.some((c) => c.type === 'input_image');
}

export function decide(scenarios: Scenario[], ctx: ModelContext): Decision {
  // A deterministic handle for callers (greetings, seeded replies): `Say: "…"` or `Say exactly "…"`.
  const scripted = /\bsay(?:\s+exactly)?\s*:?\s*["“]([^"”]+)["”]/i.exec(ctx.responseInstructions ?? '');
  if (scripted) return { kind: 'say', text: scripted[1]!.trim() };
  const applicable = applicableScenarios(scenarios, ctx);
  const primary = applicable[0];
  const items = ctx.items;
  let lastUser = -1;
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i]!;
    if (it.type === 'message' && it.role === 'user') {
      lastUser = i;
      break;
    }
  }
  const after = items.slice(lastUser + 1);

  // Tool outputs that arrived since the user spoke and have not been answered yet. An assistant message after
  // an output need not have answered it: a response that started before the output arrived (a "one moment"
  // line) did not see it, even though its message lands later in the conversation.
  const lastAssistantMsg = findLastIndex(after, (it) => it.type === 'message' && it.role === 'assistant');
  const answered = ctx.answered;
  const outputs = answered
    ? after.filter((it) => it.type === 'function_call_output' && !answered.has(it.call_id))
    : after.slice(lastAssistantMsg + 1).filter((it) => it.type === 'function_call_output');
  if (outputs.length > 0) {
    const answers = outputs.map((o) => answerFor(o, ctx, items[lastUser]));
    const ids = outputs.map((o) => (o.type === 'function_call_output' ? o.call_id : ''));
    return { kind: 'say', text: answers.join(' '), answers: ids };
  }
  if (lastUser < 0) return { kind: 'say', text: primary?.greeting ?? DEFAULT_GREETING };
  if (after.some((it) => it.type === 'function_call')) {
    const waiting = after
      .filter((it) => it.type === 'function_call')
      .map((it) => (it.type === 'function_call' ? it.name : ''));
    return { kind: 'say', text: `I'm still waiting for the result of ${waiting.join(' and ')}.` };
  }
  if (lastAssistantMsg >= 0) return { kind: 'say', text: ANYTHING_ELSE };

  const user = items[lastUser]!;
  const text = userText(user);
  const imageNote = hasImage(user) ? 'I received your image. ' : '';
  if (!text || text === INAUDIBLE) {
    return { kind: 'say', text: imageNote ? `${imageNote}What would you like to know about it?` : DEFAULT_FALLBACK };
  }
  const vars = (groups: Record<string, string>) => ({ message: text, ...groups });
  const matches = matchRule(applicable, text).filter((m) => !ctx.forceTool || m.rule.tool);
  for (const m of matches) {
    if (m.rule.tool) {
      const allowed = typeof ctx.forceTool === 'string' ? ctx.tools.filter((t) => t === ctx.forceTool) : ctx.tools;
      const name = resolveTool(m.rule.tool, allowed);
      if (name) {
        const args: Record<string, string> = {};
        for (const [k, tpl] of Object.entries(m.rule.arguments ?? {})) {
          const v = renderTemplate(tpl, vars(m.groups));
          if (v !== '') args[k] = v;
        }
        return { kind: 'call', name, arguments: JSON.stringify(args), pending: { rule: m.rule, groups: m.groups } };
      }
      if (!m.rule.say || ctx.forceTool) continue; // never call a tool the session does not declare
    }
    return { kind: 'say', text: imageNote + renderTemplate(m.rule.say!, vars(m.groups)) };
  }
  const forced = forcedCall(applicable, ctx, text);
  if (forced) return forced;
  const fallback = primary?.fallback ?? DEFAULT_FALLBACK;
  return { kind: 'say', text: imageNote + renderTemplate(fallback, { message: text }) };
}

/**
 * `tool_choice` demands a call the words did not lead to: a matching rule for that tool if there is one,
 * else the tool with empty arguments (the model would guess; the emulator does not).
 */
function forcedCall(scenarios: Scenario[], ctx: ModelContext, text: string): Decision | undefined {
  if (!ctx.forceTool) return undefined;
  const wanted = ctx.forceTool === true ? ctx.tools : ctx.tools.filter((t) => t === ctx.forceTool);
  if (!wanted.length) return undefined;
  for (const scenario of scenarios) {
    for (const rule of scenario.rules) {
      if (!rule.tool) continue;
      const name = resolveTool(rule.tool, wanted);
      if (name) return { kind: 'call', name, arguments: '{}', pending: { rule, groups: { message: text } } };
    }
  }
  return {
    kind: 'call',
    name: wanted[0]!,
    arguments: '{}',
    pending: { rule: { id: 'forced', say: '', match: '' }, groups: {} },
  };
}

function answerFor(output: ConversationItem, ctx: ModelContext, user: ConversationItem | undefined): string {
  if (output.type !== 'function_call_output') return '';
  const parsed = parseJson(output.output);
  const pending = ctx.calls.get(output.call_id);
  const message = user ? userText(user) : '';
  // Plain text back from a tool is its error message (successful tools return JSON here): pass it on.
  if (typeof parsed === 'string') return `Sorry, that did not work: ${firstSentence(parsed)}`;
  if (pending?.rule.answer) return renderTemplate(pending.rule.answer, { message, ...pending.groups }, parsed);
  const call = ctx.items.find((it) => it.type === 'function_call' && it.call_id === output.call_id);
  const name = call && call.type === 'function_call' ? call.name : 'the tool';
  const summary = typeof parsed === 'string' ? parsed : JSON.stringify(parsed);
  return `Here is what ${name} returned: ${summary.slice(0, 200)}`;
}

function findLastIndex<T>(arr: T[], pred: (t: T) => boolean): number {
  for (let i = arr.length - 1; i >= 0; i--) if (pred(arr[i]!)) return i;
  return -1;
}

/** The gist of a tool's error text: the part after "…error:" if any, up to the first full stop. */
function firstSentence(text: string): string {
  const gist = /error:\s*(.+)/is.exec(text)?.[1] ?? text;
  const m = /^(.+?[.!?])(\s|$)/s.exec(gist.trim());
  return (m?.[1] ?? gist).trim().slice(0, 200);
}
