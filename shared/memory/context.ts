import { createHash } from 'node:crypto';
import type { ConversationItem, ConversationItemCreateEvent } from 'openai/resources/realtime/realtime';
import type { HistoryStore, SummaryStore, TranscriptItem } from './types';

/**
 * Context seeding: what a new realtime session is told about earlier ones, sent by the worker as
 * `conversation.item.create` events when it attaches.
 *
 * Token counting: an estimate, not a tokenizer — ceil(characters / 4) per text plus 4 tokens of message
 * framing per item. English averages ~4 characters per token with OpenAI tokenizers; the estimate only has to
 * keep the seed well inside the model's context, and it is the same on every host (no tokenizer tables).
 */
export const CHARS_PER_TOKEN = 4;
export const ITEM_OVERHEAD_TOKENS = 4;
/** The rolling summary may use at most this share of the budget, so recent turns always get room. */
export const SUMMARY_BUDGET_SHARE = 0.5;

export const estimateTokens = (text: string) => Math.ceil(text.length / CHARS_PER_TOKEN);
export const itemTokens = (text: string) => estimateTokens(text) + ITEM_OVERHEAD_TOKENS;

/**
 * Seeded items carry ids of this form (client-chosen ids are allowed, ≤32 chars) so the worker can tell them
 * apart from new conversation and does not store them again as this session's transcript.
 */
export const SEED_ID_PREFIX = 'mem_';
export const isSeededItemId = (id: string | undefined) => Boolean(id?.startsWith(SEED_ID_PREFIX));
const seedId = (source: string) =>
  SEED_ID_PREFIX + createHash('sha256').update(source).digest('base64url').slice(0, 24);

export const SUMMARY_PREAMBLE = 'Memory of earlier conversations with this user (use it, do not read it out):';

export interface SeedOptions {
  history: HistoryStore & Partial<SummaryStore>;
  partition: string;
  agentId: string;
  /** Estimated tokens the whole seed may use (see estimateTokens). */
  budgetTokens: number;
  /** At most this many earlier messages (user or assistant; tool items are not replayed). */
  lastTurns: number;
  /** `false`: the user asked to start fresh — nothing is seeded. Default true. */
  resume?: boolean;
  /** Reconnect of a dropped call: seed that session's own items instead of the latest turns. */
  resumeSessionId?: string;
}

export interface SeedResult {
  events: ConversationItemCreateEvent[];
  estimatedTokens: number;
  summaryIncluded: boolean;
  turnsIncluded: number;
  /** Turns that existed but did not fit the budget or the turn limit (always the oldest). */
  turnsDropped: number;
}

const EMPTY: SeedResult = { events: [], estimatedTokens: 0, summaryIncluded: false, turnsIncluded: 0, turnsDropped: 0 };

function messageItem(t: TranscriptItem): ConversationItem {
  const id = seedId(t.itemId);
  if (t.role === 'assistant') {
    return { id, type: 'message', role: 'assistant', content: [{ type: 'output_text', text: t.text }] };
  }
  return { id, type: 'message', role: 'user', content: [{ type: 'input_text', text: t.text }] };
}

/** Cuts text to about `tokens` estimated tokens, at a word boundary when there is one. */
export function truncateToTokens(text: string, tokens: number): string {
  const max = Math.max(0, tokens * CHARS_PER_TOKEN);
  if (text.length <= max) return text;
  const cut = text.slice(0, Math.max(0, max - 1));
  const space = cut.lastIndexOf(' ');
  return (space > max / 2 ? cut.slice(0, space) : cut) + '…';
}

/**
 * Pure budgeting step: the summary first (capped at SUMMARY_BUDGET_SHARE of the budget), then the newest
 * turns that fit, in time order. When something has to go, the oldest turns go first.
 */
export function planSeed(
  summary: string | undefined,
  turns: TranscriptItem[],
  budgetTokens: number,
  lastTurns: number,
  seedKey = '',
): SeedResult {
  const messages = turns.filter((t) => (t.role === 'user' || t.role === 'assistant') && t.text.trim() !== '');
  let remaining = Math.max(0, Math.floor(budgetTokens));
  const items: ConversationItem[] = [];
  let summaryIncluded = false;
  if (summary?.trim()) {
    const cap = Math.floor(remaining * SUMMARY_BUDGET_SHARE) - ITEM_OVERHEAD_TOKENS;
    const body = truncateToTokens(summary.trim(), cap - estimateTokens(SUMMARY_PREAMBLE) - 1);
    if (cap > 0 && body.length > 0) {
      const text = `${SUMMARY_PREAMBLE}\n${body}`;
      remaining -= itemTokens(text);
      items.push({ id: seedId(`summary:${seedKey}`), type: 'message', role: 'system', content: [{ type: 'input_text', text }] });
      summaryIncluded = true;
    }
  }
  const chosen: TranscriptItem[] = [];
  for (let i = messages.length - 1; i >= 0 && chosen.length < Math.max(0, lastTurns); i--) {
    const cost = itemTokens(messages[i]!.text);
    if (cost > remaining) break;
    remaining -= cost;
    chosen.unshift(messages[i]!);
  }
  items.push(...chosen.map(messageItem));
  // Chained after `root`, so the seed sits before anything the caller already said while the worker attached.
  const events: ConversationItemCreateEvent[] = items.map((item, i) => ({
    type: 'conversation.item.create',
    previous_item_id: i === 0 ? 'root' : items[i - 1]!.id!,
    item,
  }));
  return {
    events,
    estimatedTokens: Math.max(0, Math.floor(budgetTokens)) - remaining,
    summaryIncluded,
    turnsIncluded: chosen.length,
    turnsDropped: messages.length - chosen.length,
  };
}

/** Reads what the partition remembers for this agent and budgets it into seed events. */
export async function buildSeed(opts: SeedOptions): Promise<SeedResult> {
  if (opts.resume === false) return EMPTY;
  const [summary, turns] = await Promise.all([
    opts.history.getSummary?.(opts.partition, opts.agentId),
    opts.resumeSessionId
      ? opts.history.forSession(opts.partition, opts.resumeSessionId)
      : // Tool items are stored but not replayed: over-fetch so `lastTurns` messages remain after filtering.
        opts.history.recent(opts.partition, opts.agentId, Math.max(0, opts.lastTurns) * 2),
  ]);
  const own = opts.resumeSessionId ? turns.filter((t) => t.agentId === opts.agentId) : turns;
  return planSeed(summary?.text, own, opts.budgetTokens, opts.lastTurns, `${opts.partition}|${opts.agentId}`);
}

export const buildSeedItems = async (opts: SeedOptions) => (await buildSeed(opts)).events;

/** Sends the seed over an open realtime socket (`send` = JSON-serialising ws.send); returns how many. */
export async function seedConversation(
  send: (event: ConversationItemCreateEvent) => void | Promise<void>,
  opts: SeedOptions,
): Promise<SeedResult> {
  const seed = await buildSeed(opts);
  for (const e of seed.events) await send(e);
  return seed;
}
