import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';

/**
 * Scenario suites (`evals/*.json`): scripted user turns, as text or as speech synthesized with espeak-ng,
 * with what each turn must (and must not) produce.
 */
const speechSchema = z.object({
  voice: z
    .string()
    .regex(/^[a-z]{2,3}(-[a-z0-9]{2,4})?(\+[a-z0-9]+)?$/i, 'an espeak-ng voice such as en-us or en-gb+m2')
    .default('en-us'),
  wpm: z.number().int().min(80).max(450).default(175),
  noise: z.number().min(0).max(0.2).default(0),
});

const toolExpectation = z.object({
  name: z.string().min(1),
  /** Each given argument must be present with this value (strings compared case-insensitively, trimmed). */
  arguments: z.record(z.string(), z.unknown()).optional(),
});

const turnSchema = z.object({
  /** What the user says (typed in text mode, spoken in audio mode); a keypad turn shows its keys here. */
  user: z.string().min(1).optional(),
  /** Keys pressed on the phone keypad instead of speaking (a `sip` suite): sent as the worker sends them. */
  keys: z
    .string()
    .regex(/^[0-9*#A-D]{1,32}$/, 'keypad keys: 0-9, *, #, A-D')
    .optional(),
  expect: z
    .object({
      toolCalls: z.array(toolExpectation).default([]),
      /** No tool call at all in this turn. */
      noToolCalls: z.boolean().default(false),
      forbiddenTools: z.array(z.string().min(1)).default([]),
      answer: z
        .object({
          /** Every string must appear (case-insensitive). */
          contains: z.array(z.string().min(1)).default([]),
          /** At least one must appear. */
          anyOf: z.array(z.string().min(1)).default([]),
          notContains: z.array(z.string().min(1)).default([]),
          /** Regex (case-insensitive). */
          matches: z.string().optional(),
        })
        .default({ contains: [], anyOf: [], notContains: [] }),
      /** Audio mode: what the service transcribed must contain this (case-insensitive). */
      heard: z.string().optional(),
      latencyMs: z
        .object({
          /** End of the user's turn (text sent / speech stopped) → first audio (or text) of the answer. */
          firstResponse: z.number().int().positive().optional(),
          /** End of the user's turn → the turn's last response.done (tool calls included). */
          total: z.number().int().positive().optional(),
        })
        .default({}),
    })
    .default({
      toolCalls: [],
      noToolCalls: false,
      forbiddenTools: [],
      answer: { contains: [], anyOf: [], notContains: [] },
      latencyMs: {},
    }),
});

const scenarioSchema = z.object({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lowercase letters, digits and -'),
  description: z.string().default(''),
  mode: z.enum(['text', 'audio']),
  /** Audio mode: how the user's turns are spoken. */
  speech: speechSchema.default({ voice: 'en-us', wpm: 175, noise: 0 }),
  /** Tools that must not be called in any turn. */
  forbiddenTools: z.array(z.string().min(1)).default([]),
  /** The signed-in user the tools act for (orders have owners); the suite's `caller` when unset. */
  caller: z.string().min(1).max(128).optional(),
  turns: z.array(turnSchema).min(1).max(20),
});

export const suiteSchema = z.object({
  name: z.string().min(1),
  description: z.string().default(''),
  /** Agent id (agents/<id>.json): its instructions, voice, tools and turn detection are used as-is. */
  agent: z.string().regex(/^[a-z][a-z0-9-]{1,47}$/),
  /** How the caller reaches the agent: a phone call (`sip`) also gets `transfer_call` and keypad turns. */
  transport: z.enum(['webrtc', 'sip']).default('webrtc'),
  /** A suite expected to FAIL (wrong on purpose): the harness reports it separately and inverts its verdict. */
  expectFailure: z.boolean().default(false),
  /** The signed-in user the tools act for unless a scenario names another. */
  caller: z.string().min(1).max(128).optional(),
  scenarios: z.array(scenarioSchema).min(1),
});

export type Suite = z.infer<typeof suiteSchema> & { file: string };
export type Scenario = z.infer<typeof scenarioSchema>;
export type Turn = z.infer<typeof turnSchema>;
export type TurnExpectation = Turn['expect'];
export type ToolExpectation = z.infer<typeof toolExpectation>;

export class SuiteError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'SuiteError';
  }
}

export function parseSuite(file: string, text: string): Suite {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SuiteError(file, `not valid JSON (${(e as Error).message})`);
  }
  const parsed = suiteSchema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new SuiteError(file, `${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const ids = new Set<string>();
  for (const s of parsed.data.scenarios) {
    if (ids.has(s.id)) throw new SuiteError(file, `duplicate scenario id ${s.id}`);
    ids.add(s.id);
    for (const [i, t] of s.turns.entries()) {
      if (!t.user === !t.keys) throw new SuiteError(file, `scenarios.${s.id}.turns.${i}: one of \`user\` or \`keys\``);
      if (t.keys && parsed.data.transport !== 'sip')
        throw new SuiteError(file, `scenarios.${s.id}.turns.${i}: keypad turns need a "sip" suite`);
      if (t.expect.answer.matches) {
        try {
          new RegExp(t.expect.answer.matches, 'i');
        } catch {
          throw new SuiteError(file, `scenarios.${s.id}.turns.${i}.expect.answer.matches is not a valid regex`);
        }
      }
    }
  }
  return { ...parsed.data, file };
}

/** Suites from files and/or directories (every *.json directly inside a directory), sorted by path. */
export async function loadSuites(paths: string[]): Promise<Suite[]> {
  const files: string[] = [];
  for (const p of paths) {
    const full = resolve(p);
    if (full.endsWith('.json')) files.push(full);
    else
      files.push(
        ...(await readdir(full))
          .filter((f) => f.endsWith('.json'))
          .sort()
          .map((f) => join(full, f)),
      );
  }
  const suites: Suite[] = [];
  for (const f of files) suites.push(parseSuite(f, await readFile(f, 'utf8')));
  return suites;
}
