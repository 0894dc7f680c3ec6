import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/**
 * Scenario files: the emulator's whole "model". A rule matches the user's words (a regex with named groups,
 * or keywords that must all appear) and either says something or calls a tool the session declares; after the
 * tool output arrives, its `answer` template is filled from the groups and the output JSON.
 */
const ruleSchema = z
  .object({
    id: z.string().min(1),
    /** Case-insensitive regex; named groups become template variables and tool arguments. */
    match: z.string().optional(),
    /** Alternative to `match`: every keyword must appear (case-insensitive, whole words). */
    keywords: z.array(z.string().min(1)).optional(),
    /** Text reply. With `tool`, used only when the session does not declare the tool. */
    say: z.string().optional(),
    tool: z.string().optional(),
    /** Argument templates; a key whose value renders empty is left out (optional arguments). */
    arguments: z.record(z.string(), z.string()).optional(),
    /** Reply after the tool output arrives: `{{group}}`, `{{output.path|default}}`, `{{message}}`. */
    answer: z.string().optional(),
    /** Utterances synthesized at start-up so spoken input can be recognized (see recognizer.ts). */
    samples: z.array(z.string().min(1)).optional(),
  })
  .refine((r) => r.match || r.keywords, { message: 'a rule needs `match` or `keywords`' })
  .refine((r) => r.say || r.tool, { message: 'a rule needs `say` or `tool`' })
  .refine((r) => !r.tool || r.answer, { message: 'a tool rule needs an `answer` template' });

export const scenarioSchema = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  /** When the scenario applies: any listed tool declared, or the instructions match. Absent = always. */
  when: z.object({ tools: z.array(z.string()).optional(), instructions: z.string().optional() }).optional(),
  greeting: z.string().optional(),
  fallback: z.string().optional(),
  rules: z.array(ruleSchema),
});

export type Scenario = z.infer<typeof scenarioSchema>;
export type Rule = z.infer<typeof ruleSchema>;

export const DEFAULT_SCENARIOS_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), 'scenarios');

export function loadScenarios(dir: string = DEFAULT_SCENARIOS_DIR): Scenario[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files.map((f) => {
    const raw = JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown;
    const parsed = scenarioSchema.safeParse(raw);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new Error(`scenario ${f}: ${i.path.join('.') || '(root)'}: ${i.message}`);
    }
    for (const r of parsed.data.rules) if (r.match) new RegExp(r.match, 'i'); // fail at load, not mid-call
    return parsed.data;
  });
}

/** Finds the declared tool a rule means: exact, or namespaced as `<server>__<tool>`. */
export function resolveTool(tool: string, declared: string[]): string | undefined {
  return declared.find((d) => d === tool) ?? declared.find((d) => d.endsWith(`__${tool}`));
}

export interface RuleMatch {
  rule: Rule;
  scenario: Scenario;
  groups: Record<string, string>;
}

export function matchRule(scenarios: Scenario[], text: string): RuleMatch[] {
  const out: RuleMatch[] = [];
  for (const scenario of scenarios) {
    for (const rule of scenario.rules) {
      const groups = ruleGroups(rule, text);
      if (groups) out.push({ rule, scenario, groups });
    }
  }
  return out;
}

function ruleGroups(rule: Rule, text: string): Record<string, string> | undefined {
  if (rule.match) {
    const m = new RegExp(rule.match, 'i').exec(text);
    if (!m) return undefined;
    const groups: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.groups ?? {})) if (v !== undefined) groups[k] = v.trim();
    return groups;
  }
  const words = new Set(text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []);
  return rule.keywords!.every((k) => words.has(k.toLowerCase())) ? {} : undefined;
}

/** Scenarios that apply to a session, specific ones (with a matching `when`) first. */
export function applicableScenarios(scenarios: Scenario[], ctx: { tools: string[]; instructions: string }): Scenario[] {
  const specific = scenarios.filter((s) => {
    if (!s.when) return false;
    const byTool = s.when.tools?.some((t) => resolveTool(t, ctx.tools)) ?? false;
    const byInstructions = s.when.instructions ? new RegExp(s.when.instructions, 'i').test(ctx.instructions) : false;
    return byTool || byInstructions;
  });
  return [...specific, ...scenarios.filter((s) => !s.when)];
}

/**
 * `{{name}}`, `{{name|default}}`, `{{output.a.b}}`: names come from `vars`; `output.*` from the tool output,
 * looked up in the JSON itself, its `structuredContent`, or JSON inside MCP `content[].text`.
 */
export function renderTemplate(template: string, vars: Record<string, string>, output?: unknown): string {
  return template.replace(/\{\{([^}]*)\}\}/g, (_all, expr: string) => {
    // Alternatives left to right: a variable, `output`, `output.path`, or else the literal text.
    const parts = expr.split('|');
    for (const [i, raw] of parts.entries()) {
      const p = i === 0 ? raw.trim() : raw;
      const key = p.trim();
      const value =
        key === 'output'
          ? stringify(output)
          : key.startsWith('output.')
            ? lookupOutput(output, key.slice(7))
            : vars[key];
      if (value !== undefined && value !== '') return value;
      if (i > 0 && i === parts.length - 1 && !/^output(\.|$)/.test(key) && !(key in vars)) return p;
    }
    return '';
  });
}

function stringify(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function lookupOutput(output: unknown, path: string): string | undefined {
  for (const candidate of outputCandidates(output)) {
    let cur: unknown = candidate;
    for (const key of path.split('.')) {
      if (cur && typeof cur === 'object') cur = (cur as Record<string, unknown>)[key];
      else {
        cur = undefined;
        break;
      }
    }
    if (cur !== undefined && cur !== null) return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
  }
  return undefined;
}

function outputCandidates(output: unknown): unknown[] {
  const list: unknown[] = [output];
  if (output && typeof output === 'object') {
    const o = output as { structuredContent?: unknown; content?: unknown };
    if (o.structuredContent) list.push(o.structuredContent);
    if (Array.isArray(o.content)) {
      for (const c of o.content) {
        if (c && typeof c === 'object' && typeof (c as { text?: unknown }).text === 'string')
          list.push(parseJson((c as { text: string }).text));
      }
    }
  }
  return list;
}

export function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
