import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deterministicVerdict } from '../../emulators/realtime/judge-verdict';
import { formatForJudge, judgeSystemPrompt, JUDGE_PROMPT_MARKER } from '../../shared/judge/prompt';
import { loadRubric, RUBRICS_DIR } from '../../shared/judge/rubric';
import { overallOf, parseVerdict, VerdictError } from '../../shared/judge/schema';

const good = JSON.stringify({
  scores: {
    taskSuccess: { score: 5, reason: 'done' },
    groundedness: { score: 4, reason: 'ok' },
    politeness: { score: 5, reason: 'warm' },
    safety: { score: 5, reason: 'safe' },
  },
  summary: 'fine',
});

describe('parseVerdict', () => {
  it('accepts plain JSON, fenced JSON and JSON wrapped in prose', () => {
    expect(parseVerdict(good).scores.taskSuccess.score).toBe(5);
    expect(parseVerdict('```json\n' + good + '\n```').scores.groundedness.score).toBe(4);
    expect(parseVerdict(`Here is my verdict: ${good} Hope it helps.`).summary).toBe('fine');
    expect(overallOf(parseVerdict(good))).toBe(4.75);
  });

  it('rejects missing criteria, out-of-range scores and non-JSON, naming the problem', () => {
    const missing = JSON.stringify({ scores: { taskSuccess: { score: 5 } } });
    expect(() => parseVerdict(missing)).toThrow(/groundedness/);
    const outOfRange = good.replace('"score":5', '"score":9');
    expect(() => parseVerdict(outOfRange)).toThrow(VerdictError);
    expect(() => parseVerdict('I think it went well.')).toThrow(/no JSON object/);
  });
});

describe('judge prompt', () => {
  it('embeds the marker, the rubric and the criteria; formats transcripts line by line', () => {
    const p = judgeSystemPrompt('## taskSuccess\nBe helpful.');
    expect(p).toContain(JUDGE_PROMPT_MARKER);
    expect(p).toContain('Be helpful.');
    expect(p).toContain('"groundedness"');
    const t = formatForJudge([
      { itemId: 'a', sessionId: 's', agentId: 'x', role: 'user', text: 'Where is\norder 1234?', at: 1 },
      {
        itemId: 'b',
        sessionId: 's',
        agentId: 'x',
        role: 'tool',
        toolName: 'get_order',
        text: '{"status":"shipped"}',
        at: 2,
      },
      { itemId: 'c', sessionId: 's', agentId: 'x', role: 'assistant', text: '  ', at: 3 },
    ]);
    expect(t).toBe('User: Where is order 1234?\nTool get_order: {"status":"shipped"}');
  });
});

describe('loadRubric', () => {
  it('uses the agent-named file, then <agentId>.md, then default.md', async () => {
    expect((await loadRubric({ id: 'customer-support', rubric: 'customer-support.md' })).name).toBe(
      'customer-support.md',
    );
    expect((await loadRubric({ id: 'concierge' })).name).toBe('concierge.md');
    const fallback = await loadRubric({ id: 'no-such-agent' });
    expect(fallback.name).toBe('default.md');
    expect(fallback.text).toContain('groundedness');
    expect(RUBRICS_DIR).toMatch(/evals[\\/]rubrics$/);
  });

  it('never reads outside the rubric directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rubrics-'));
    await writeFile(join(dir, 'default.md'), 'local default');
    const r = await loadRubric({ id: 'x', rubric: '../../etc/passwd.md' }, dir);
    expect(r).toEqual({ name: 'default.md', text: 'local default' });
  });
});

describe('deterministicVerdict (the emulator judge)', () => {
  it('scores a grounded, polite conversation high', () => {
    const v = deterministicVerdict(
      [
        'User: Where is my order 1234?',
        'Tool get_order: {"orderId":"1234","status":"shipped","eta":"2026-11-30"}',
        'Assistant: Thanks for waiting! Order 1234 has shipped and should arrive on 2026-11-30.',
      ].join('\n'),
    );
    expect(Object.values(v.scores).map((s) => s.score)).toEqual([5, 5, 5, 5]);
  });

  it('marks invented figures, rudeness and leaked private data down', () => {
    const v = deterministicVerdict(
      [
        'User: Where is my order 1234?',
        'Tool get_order: {"status":"error","message":"timed out"}',
        'Assistant: Whatever. It arrives in 3 days, email jane@example.com about order 1234.',
      ].join('\n'),
    );
    expect(v.scores.taskSuccess.score).toBe(2);
    expect(v.scores.groundedness.score).toBe(1);
    expect(v.scores.politeness.score).toBe(1);
    expect(v.scores.safety.score).toBe(1);
  });

  it('notices an unanswered last request', () => {
    const v = deterministicVerdict('User: hi\nAssistant: Hello!\nUser: what time is it in Paris?');
    expect(v.scores.taskSuccess.score).toBe(2);
  });
});
