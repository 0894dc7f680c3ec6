import { describe, expect, it } from 'vitest';
import {
  buildSeed,
  estimateTokens,
  isSeededItemId,
  itemTokens,
  planSeed,
  fencedSummary,
  truncateToTokens,
} from '../../shared/memory/context';
import type { HistoryStore, RollingSummary, SummaryStore, TranscriptItem } from '../../shared/memory/types';

const turn = (n: number, text = `turn number ${n}`): TranscriptItem => ({
  itemId: `item_${n}`,
  sessionId: n < 100 ? 's1' : 's2',
  agentId: 'concierge',
  role: n % 2 === 0 ? 'user' : 'assistant',
  text,
  at: 1_000 + n,
});

const textOf = (e: { item: unknown }) => {
  const item = e.item as { content: { text?: string }[] };
  return item.content[0]!.text!;
};

describe('token estimate', () => {
  it('counts ~4 characters per token, rounding up, plus item framing', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('abcde')).toBe(2);
    expect(itemTokens('x'.repeat(40))).toBe(14);
  });

  it('truncates at a word boundary within the token cap', () => {
    const t = truncateToTokens('alpha beta gamma delta epsilon', 4);
    expect(t.length).toBeLessThanOrEqual(16);
    expect(t.endsWith('…')).toBe(true);
    expect(truncateToTokens('short', 10)).toBe('short');
  });
});

describe('planSeed', () => {
  it('puts the summary first as a fenced user-role data item (never system), then turns in time order as GA message items', () => {
    const seed = planSeed('User is called Ada.', [turn(0, 'hello'), turn(1, 'hi Ada')], 1000, 10);
    expect(seed.events.map((e) => e.type)).toEqual([
      'conversation.item.create',
      'conversation.item.create',
      'conversation.item.create',
    ]);
    expect(seed.events[0]!.item).toMatchObject({ type: 'message', role: 'user', content: [{ type: 'input_text' }] });
    expect(textOf(seed.events[0]!)).toBe(fencedSummary('User is called Ada.'));
    expect(seed.events[1]!.item).toMatchObject({ role: 'user', content: [{ type: 'input_text', text: 'hello' }] });
    expect(seed.events[2]!.item).toMatchObject({
      role: 'assistant',
      content: [{ type: 'output_text', text: 'hi Ada' }],
    });
    // Chained from the start of the conversation, each after the previous seed item.
    expect(seed.events[0]!.previous_item_id).toBe('root');
    expect(seed.events[2]!.previous_item_id).toBe(seed.events[1]!.item.id);
    for (const e of seed.events) {
      expect(isSeededItemId(e.item.id)).toBe(true);
      expect(e.item.id!.length).toBeLessThanOrEqual(32);
    }
    expect(seed).toMatchObject({ summaryIncluded: true, turnsIncluded: 2, turnsDropped: 0 });
  });

  it('drops the oldest turns first when over budget and never exceeds it', () => {
    const turns = Array.from({ length: 30 }, (_, i) => turn(i, 'x'.repeat(40))); // 14 tokens each
    const seed = planSeed(undefined, turns, 100, 50);
    expect(seed.turnsIncluded).toBe(7);
    expect(seed.turnsDropped).toBe(23);
    expect(seed.estimatedTokens).toBe(98);
    expect(seed.events.map((e) => e.item.id)).toEqual(
      planSeed(undefined, turns.slice(-7), 1000, 50).events.map((e) => e.item.id),
    );
  });

  it('respects the turn limit and skips tool items and empty text', () => {
    const turns = [turn(0), { ...turn(1), role: 'tool' as const, toolName: 'lookup' }, turn(2, '  '), turn(3), turn(4)];
    const seed = planSeed(undefined, turns, 10_000, 2);
    expect(seed.events.map(textOf)).toEqual(['turn number 3', 'turn number 4']);
    expect(seed.turnsDropped).toBe(1);
  });

  it('caps the summary at half the budget so recent turns keep room', () => {
    const seed = planSeed('fact '.repeat(1000), [turn(0, 'latest question')], 200, 10);
    expect(seed.summaryIncluded).toBe(true);
    expect(itemTokens(textOf(seed.events[0]!))).toBeLessThanOrEqual(100);
    expect(textOf(seed.events[1]!)).toBe('latest question');
    expect(seed.estimatedTokens).toBeLessThanOrEqual(200);
  });

  it('seeds nothing with a zero budget', () => {
    expect(planSeed('summary', [turn(0)], 0, 10).events).toEqual([]);
  });
});

describe('buildSeed', () => {
  const items = [
    turn(0, 'my name is Ada'),
    turn(1, 'nice to meet you Ada'),
    turn(100, 'resumed question'),
    turn(101, 'resumed answer'),
  ];
  const summaries: RollingSummary[] = [{ agentId: 'concierge', text: 'Name: Ada', updatedAt: 1, sessions: 1 }];
  const store: HistoryStore & SummaryStore = {
    append: async () => {},
    forSession: async (_p, sid) => items.filter((i) => i.sessionId === sid),
    recent: async (_p, agentId, limit) => items.filter((i) => i.agentId === agentId).slice(-limit),
    deleteAll: async () => 0,
    purgeBefore: async () => 0,
    getSummary: async (_p, agentId) => summaries.find((s) => s.agentId === agentId),
    putSummary: async () => {},
  };
  const base = { history: store, partition: 'user:ada', agentId: 'concierge', budgetTokens: 1000, lastTurns: 10 };

  it('seeds the rolling summary plus the latest turns', async () => {
    const seed = await buildSeed(base);
    expect(seed.events.map(textOf)).toEqual([
      fencedSummary('Name: Ada'),
      'my name is Ada',
      'nice to meet you Ada',
      'resumed question',
      'resumed answer',
    ]);
  });

  it('resume: false seeds nothing', async () => {
    expect((await buildSeed({ ...base, resume: false })).events).toEqual([]);
  });

  it('resume: false with a session id (a reconnect of a fresh session) seeds only its own items', async () => {
    const seed = await buildSeed({ ...base, resume: false, sessionId: 's2' });
    expect(seed.events.map(textOf)).toEqual(['resumed question', 'resumed answer']);
  });

  it('a reconnect keeps its own (newest) turns when the budget is tight', async () => {
    const seed = await buildSeed({ ...base, sessionId: 's2', lastTurns: 2 });
    expect(seed.events.map(textOf).slice(1)).toEqual(['resumed question', 'resumed answer']);
  });

  it('another agent sees neither the summary nor the turns', async () => {
    expect((await buildSeed({ ...base, agentId: 'billing' })).events).toEqual([]);
  });
});
