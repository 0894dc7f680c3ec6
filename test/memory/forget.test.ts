import functions from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionTimer } from '../../functions/timers/retention';
import { buildSeed } from '../../shared/memory/context';
import { DAY_MS, purgeExpiredHistory } from '../../shared/memory/forget';
import { historyPartition, type TranscriptItem } from '../../shared/memory/types';
import { startHarness, type Harness } from '../functions/harness';

const { InvocationContext } = functions;
const AGENT = 'concierge';
const NOW = Date.UTC(2026, 10, 27, 4, 0, 0);

let seq = 0;
const uuid = () => `3f1c2a9e-0000-4000-8000-${String(++seq).padStart(12, '0')}`;

describe('forgetting: DELETE /api/users/me/history and retention (local runner + Azurite)', () => {
  let h: Harness;

  /** One ended session with transcript, a per-session summary and a rolling summary. */
  async function remember(userId: string, at: number, text: string) {
    const sessionId = uuid();
    const partition = historyPartition({ userId });
    await h.deps.sessions.create({
      sessionId,
      agentId: AGENT,
      transport: 'webrtc',
      userId,
      historyPartition: partition,
      state: 'ended',
      createdAt: at,
      model: 'gpt-realtime',
      resume: true,
      endedAt: at + 60_000,
      summary: `- Said: ${text}`,
      transcriptItems: 2,
    });
    const items: TranscriptItem[] = [
      { itemId: `item_${sessionId.slice(-6)}a`, sessionId, agentId: AGENT, role: 'user', text, at },
      {
        itemId: `item_${sessionId.slice(-6)}b`,
        sessionId,
        agentId: AGENT,
        role: 'assistant',
        text: `ok: ${text}`,
        at: at + 1000,
      },
    ];
    await h.deps.history.append(partition, items);
    await h.deps.history.putSummary(partition, {
      agentId: AGENT,
      text: `- Said: ${text}`,
      updatedAt: at + 2000,
      sessions: 1,
    });
    return sessionId;
  }

  const historyRows = async (pk: string) => (await h.rows('history')).filter((r) => r.partitionKey === pk);
  const del = (userId: string) =>
    fetch(`${h.api}/users/me/history`, { method: 'DELETE', headers: { 'x-user-id': userId } });

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.stop());

  it('removes every row of the caller and nothing of another user', async () => {
    const erin = [
      await remember('erin', NOW - DAY_MS, 'erin secret one'),
      await remember('erin', NOW, 'erin secret two'),
    ];
    const frank = await remember('frank', NOW, 'frank secret');
    const frankRowsBefore = await historyRows('user:frank');

    const res = await del('erin');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      deleted: {
        historyRows: 4 + 2 + 1,
        transcriptItems: 4,
        rollingSummaries: 1,
        sessionSummariesCleared: 2,
        toolRuns: 0,
      },
    });

    expect(await historyRows('user:erin')).toEqual([]);
    for (const id of erin) expect((await h.deps.sessions.get(id))?.summary ?? '').toBe('');
    expect(await historyRows('user:frank')).toEqual(frankRowsBefore);
    expect((await h.deps.sessions.get(frank))?.summary).toBe('- Said: frank secret');
    // Erin's next session starts empty; Frank's still remembers.
    const seedOf = (userId: string) =>
      buildSeed({
        history: h.deps.history,
        partition: historyPartition({ userId }),
        agentId: AGENT,
        budgetTokens: 2000,
        lastTurns: 20,
      });
    expect((await seedOf('erin')).events).toEqual([]);
    expect(JSON.stringify((await seedOf('frank')).events)).toContain('frank secret');
    expect(JSON.stringify((await seedOf('frank')).events)).not.toContain('erin');

    // Deleting again is harmless.
    expect(await (await del('erin')).json()).toEqual({
      deleted: { historyRows: 0, transcriptItems: 0, rollingSummaries: 0, sessionSummariesCleared: 0, toolRuns: 0 },
    });
  });

  it('refuses a malformed caller id with a JSON 400 and deletes nothing', async () => {
    await remember('gail', NOW, 'gail data');
    const res = await del('gail/../frank');
    expect(res.status).toBe(400);
    expect((await res.json()).error.code).toBe('invalid_user_id');
    expect((await historyRows('user:gail')).length).toBe(4);
  });

  it('retention removes only expired rows, across users, and clears their session summaries', async () => {
    const oldA = await remember('hana', NOW - 40 * DAY_MS, 'hana old');
    const newA = await remember('hana', NOW - 2 * DAY_MS, 'hana new');
    const oldB = await remember('ivan', NOW - 31 * DAY_MS, 'ivan old');
    const newB = await remember('ivan', NOW - 29 * DAY_MS, 'ivan recent');

    const r = await purgeExpiredHistory({ history: h.deps.history, sessions: h.deps.sessions }, 30, NOW);
    expect(r.cutoff).toBe(NOW - 30 * DAY_MS);
    // Expired: hana's and ivan's old sessions (2 items + marker each). Rolling summaries were rewritten
    // by the newer sessions, so they stay. Earlier tests' rows (written at NOW) are untouched.
    expect(r).toMatchObject({ rows: 6, partitions: 2, sessionSummariesCleared: 2 });
    const texts = async (userId: string) => (await historyRows(`user:${userId}`)).map((e) => String(e.text ?? ''));
    expect((await texts('hana')).filter((t) => t.includes('old'))).toEqual([]);
    expect((await texts('hana')).some((t) => t.includes('hana new'))).toBe(true);
    expect((await texts('ivan')).some((t) => t.includes('ivan recent'))).toBe(true);
    expect((await h.deps.sessions.get(oldA))?.summary ?? '').toBe('');
    expect((await h.deps.sessions.get(oldB))?.summary ?? '').toBe('');
    expect((await h.deps.sessions.get(newA))?.summary).toBe('- Said: hana new');
    expect((await h.deps.sessions.get(newB))?.summary).toBe('- Said: ivan recent');
    expect((await historyRows('user:frank')).length).toBeGreaterThan(0);
  });

  it('the timer function purges with HISTORY_RETENTION_DAYS and logs counts', async () => {
    await remember('jo', Date.now() - 400 * DAY_MS, 'jo ancient');
    const lines: string[] = [];
    const ctx = new InvocationContext({
      functionName: 'historyRetention',
      logHandler: (_l, ...a) => lines.push(a.join(' ')),
    });
    await retentionTimer({
      history: h.deps.history,
      sessions: h.deps.sessions,
      config: { HISTORY_RETENTION_DAYS: 365 },
    })(
      { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } },
      ctx,
    );
    expect(await historyRows('user:jo')).toEqual([]);
    expect(lines.join('\n')).toMatch(
      /history retention \(365 days.*\): 4 rows in 1 partitions, 1 session summaries cleared/,
    );
  });
});
