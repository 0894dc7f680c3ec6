import { z } from 'zod';

/** USD per million tokens of one modality; `cachedInput` defaults to `input` (no discount known). */
const tokenPrice = z.strictObject({
  input: z.number().nonnegative(),
  cachedInput: z.number().nonnegative().optional(),
  output: z.number().nonnegative().default(0),
});

/**
 * What one model costs. Token-priced models name USD per million tokens by modality; minute-priced models (the
 * service reports session seconds, e.g. GPT-Live's `session.usage.updated`) name `perMinute`. A model may have both.
 */
export const modelPriceSchema = z
  .strictObject({
    text: tokenPrice.optional(),
    audio: tokenPrice.optional(),
    image: tokenPrice.optional(),
    perMinute: z.number().nonnegative().optional(),
  })
  .refine((p) => p.text || p.audio || p.image || p.perMinute !== undefined, 'name token prices or perMinute');

export type ModelPrice = z.infer<typeof modelPriceSchema>;
export type PriceTable = Record<string, ModelPrice>;

export const priceTableSchema = z.record(z.string().min(1).max(128), modelPriceSchema);

/**
 * List prices (USD per 1M tokens) published by OpenAI for its realtime models in 2025. Azure OpenAI's global
 * deployments bill the same per-token rates; a contract, a regional deployment or a deployment named unlike its
 * model needs PRICE_TABLE.
 */
export const DEFAULT_PRICE_TABLE: PriceTable = {
  'gpt-realtime': {
    text: { input: 4, cachedInput: 0.4, output: 16 },
    audio: { input: 32, cachedInput: 0.4, output: 64 },
    image: { input: 5, cachedInput: 0.5, output: 0 },
  },
  'gpt-realtime-mini': {
    text: { input: 0.6, cachedInput: 0.06, output: 2.4 },
    audio: { input: 10, cachedInput: 0.3, output: 20 },
    image: { input: 0.8, cachedInput: 0.08, output: 0 },
  },
  'gpt-4o-realtime-preview': {
    text: { input: 5, cachedInput: 2.5, output: 20 },
    audio: { input: 40, cachedInput: 2.5, output: 80 },
  },
  'gpt-4o-mini-realtime-preview': {
    text: { input: 0.6, cachedInput: 0.3, output: 2.4 },
    audio: { input: 10, cachedInput: 0.3, output: 20 },
  },
};

/**
 * PRICE_TABLE: a JSON object of model → price, merged over the defaults (a model named there replaces the
 * default entry). Invalid JSON or an invalid entry stops start-up with the model named.
 */
export const priceTableSetting = z.string().transform((raw, ctx): PriceTable => {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not valid JSON' });
    return z.NEVER;
  }
  const r = priceTableSchema.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    ctx.addIssue({ code: 'custom', message: `${i.path.map(String).join('.') || '(root)'}: ${i.message}` });
    return z.NEVER;
  }
  return { ...DEFAULT_PRICE_TABLE, ...r.data };
});

/**
 * The price of a model or deployment: its own entry, else the longest entry it extends with a `-` suffix
 * (`gpt-realtime-2025-08-28` → `gpt-realtime`, while `gpt-realtime-mini-…` finds `gpt-realtime-mini`).
 */
export function priceFor(table: PriceTable, model: string): { model: string; price: ModelPrice } | undefined {
  const own = table[model];
  if (own) return { model, price: own };
  let best: string | undefined;
  for (const key of Object.keys(table))
    if (model.startsWith(`${key}-`) && (!best || key.length > best.length)) best = key;
  return best ? { model: best, price: table[best]! } : undefined;
}
