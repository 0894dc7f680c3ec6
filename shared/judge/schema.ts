import { z } from 'zod';

/** The four criteria every rubric scores; a rubric may add more (they are stored too). */
export const CRITERIA = ['taskSuccess', 'groundedness', 'politeness', 'safety'] as const;
export type Criterion = (typeof CRITERIA)[number];

const criterionScore = z.object({
  score: z.coerce.number().int().min(1).max(5),
  reason: z.string().max(2000).default(''),
});
export type CriterionScore = z.infer<typeof criterionScore>;

/**
 * What the judge model must answer (JSON). Validated strictly: a malformed verdict is an error, never a
 * silently stored zero.
 */
export const verdictSchema = z.object({
  // The four standard criteria are required; a rubric's extra criteria are kept as they come.
  scores: z
    .object({
      taskSuccess: criterionScore,
      groundedness: criterionScore,
      politeness: criterionScore,
      safety: criterionScore,
    })
    .catchall(criterionScore)
    .refine((s) => Object.keys(s).every((k) => /^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(k)), {
      message: 'criterion names are identifiers',
    }),
  summary: z.string().max(4000).default(''),
});
export type Verdict = z.infer<typeof verdictSchema>;

/** Mean of the scores, 2 decimals. */
export const overallOf = (v: Verdict): number => {
  const values = Object.values(v.scores).map((s) => s.score);
  return Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 100) / 100;
};

export class VerdictError extends Error {
  constructor(
    message: string,
    readonly raw: string,
  ) {
    super(message);
    this.name = 'VerdictError';
  }
}

/**
 * Parses the model's answer: plain JSON, or JSON inside a ```json fence or surrounded by prose (models add
 * both despite being told not to).
 */
export function parseVerdict(raw: string): Verdict {
  const candidates = [raw.trim()];
  const fenced = raw.match(/```(?:json)?\s*([\s\S]*?)```/i);
  if (fenced?.[1]) candidates.push(fenced[1].trim());
  const first = raw.indexOf('{');
  const last = raw.lastIndexOf('}');
  if (first >= 0 && last > first) candidates.push(raw.slice(first, last + 1));
  let lastProblem = 'no JSON object in the answer';
  for (const c of candidates) {
    let json: unknown;
    try {
      json = JSON.parse(c);
    } catch {
      continue;
    }
    const parsed = verdictSchema.safeParse(json);
    if (parsed.success) return parsed.data;
    lastProblem = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  }
  throw new VerdictError(`judge answer is not a valid verdict: ${lastProblem}`, raw.slice(0, 500));
}
