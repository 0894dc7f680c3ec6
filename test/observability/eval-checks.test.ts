import { describe, expect, it } from 'vitest';
import { checkTurn, type TurnRecord } from '../../evals/lib/checks';
import { parseSuite, suiteSchema } from '../../evals/lib/suite';

const expectOf = (e: unknown) => suiteSchema.shape.scenarios.element.shape.turns.element.shape.expect.parse(e);

const turn: TurnRecord = {
  user: 'where is my order 1234',
  heard: 'where is my order 1234',
  answer: 'Order 1234 is shipped.',
  toolCalls: [
    { name: 'builtin__get_order', arguments: { orderId: '1234' }, output: '{}', isError: false, durationMs: 12 },
  ],
  latency: { firstResponseMs: 420, totalMs: 900 },
};

describe('checkTurn', () => {
  it('passes matching expectations (namespaced tool names, case-insensitive arguments and content)', () => {
    const checks = checkTurn(
      expectOf({
        toolCalls: [{ name: 'get_order', arguments: { orderId: '1234' } }],
        forbiddenTools: ['open_ticket'],
        answer: { contains: ['SHIPPED'], anyOf: ['nope', '1234'], notContains: ['cancelled'], matches: 'order \\d+' },
        heard: 'order 1234',
        latencyMs: { firstResponse: 500, total: 1000 },
      }),
      turn,
    );
    expect(checks.filter((c) => !c.passed)).toEqual([]);
    expect(checks).toHaveLength(9);
  });

  it('fails each kind of expectation with a useful detail', () => {
    const checks = checkTurn(
      expectOf({
        toolCalls: [{ name: 'get_order', arguments: { orderId: '9999' } }, { name: 'open_ticket' }],
        noToolCalls: true,
        answer: { contains: ['cancelled'], notContains: ['shipped'], matches: '^ticket' },
        heard: 'refund',
        latencyMs: { firstResponse: 100 },
      }),
      turn,
      ['get_order'],
    );
    const failed = Object.fromEntries(checks.filter((c) => !c.passed).map((c) => [c.name, c.detail]));
    expect(failed['tool get_order']).toMatch(/orderId is "1234", expected "9999"/);
    expect(failed['tool open_ticket']).toMatch(/not called \(calls made: get_order\)/);
    expect(failed['no tool calls']).toMatch(/get_order/);
    expect(failed['forbidden get_order']).toBeDefined();
    expect(failed['answer contains "cancelled"']).toBeDefined();
    expect(failed['answer lacks "shipped"']).toBeDefined();
    expect(failed['answer matches /^ticket/']).toBeDefined();
    expect(failed['heard "refund"']).toBeDefined();
    expect(failed['first response ≤ 100 ms']).toBe('420 ms');
  });

  it('fails a turn that errored and a budget that was not measured', () => {
    const checks = checkTurn(expectOf({ latencyMs: { total: 1000 } }), {
      ...turn,
      error: 'no answer within 20000 ms',
      latency: {},
    });
    expect(checks.map((c) => [c.name, c.passed])).toEqual([
      ['turn completed', false],
      ['turn total ≤ 1000 ms', false],
    ]);
  });
});

describe('parseSuite', () => {
  it('names the file and the field of a broken suite', () => {
    expect(() => parseSuite('x.json', '{')).toThrow(/x\.json: not valid JSON/);
    expect(() =>
      parseSuite(
        'x.json',
        JSON.stringify({
          name: 'n',
          agent: 'concierge',
          scenarios: [{ id: 'Bad Id', mode: 'text', turns: [{ user: 'hi' }] }],
        }),
      ),
    ).toThrow(/x\.json: scenarios\.0\.id/);
    const dup = {
      name: 'n',
      agent: 'concierge',
      scenarios: [
        { id: 'a', mode: 'text', turns: [{ user: 'hi' }] },
        { id: 'a', mode: 'text', turns: [{ user: 'hi' }] },
      ],
    };
    expect(() => parseSuite('x.json', JSON.stringify(dup))).toThrow(/duplicate scenario id a/);
    const badRegex = {
      name: 'n',
      agent: 'concierge',
      scenarios: [{ id: 'a', mode: 'text', turns: [{ user: 'hi', expect: { answer: { matches: '(' } } }] }],
    };
    expect(() => parseSuite('x.json', JSON.stringify(badRegex))).toThrow(/not a valid regex/);
  });

  it('fills defaults (speech, empty expectations)', () => {
    const s = parseSuite(
      'x.json',
      JSON.stringify({
        name: 'n',
        agent: 'concierge',
        scenarios: [{ id: 'a', mode: 'audio', turns: [{ user: 'hi' }] }],
      }),
    );
    expect(s.expectFailure).toBe(false);
    expect(s.scenarios[0]!.speech).toEqual({ voice: 'en-us', wpm: 175, noise: 0 });
    expect(s.scenarios[0]!.turns[0]!.expect.toolCalls).toEqual([]);
  });
});
