import { describe, expect, it } from 'vitest';
import { callControl } from '../../evals/lib/call-control';
import { parseSuite } from '../../evals/lib/suite';
import { loadAgentFiles } from '../../shared/agents/store';

const suite = (transport: string, turn: Record<string, unknown>) =>
  JSON.stringify({
    name: 's',
    agent: 'customer-support',
    transport,
    scenarios: [{ id: 'a', mode: 'text', turns: [turn] }],
  });

describe('evals: call control', () => {
  it('keypad turns belong to phone suites, and a turn says or presses something', () => {
    expect(() => parseSuite('x.json', suite('webrtc', { keys: '12#' }))).toThrow(/keypad turns need a "sip" suite/);
    expect(() => parseSuite('x.json', suite('sip', { user: 'hi', keys: '1' }))).toThrow(/one of `user` or `keys`/);
    expect(parseSuite('x.json', suite('sip', { keys: '2468#' })).scenarios[0]!.turns[0]!.keys).toBe('2468#');
  });

  it('answers handoff and transfer like the worker; MCP tools run for the agent speaking now', async () => {
    const agents = new Map((await loadAgentFiles()).map((a) => [a.id, a]));
    const applied: string[] = [];
    const ran: string[] = [];
    const cc = callControl({
      agents,
      start: agents.get('customer-support')!,
      apply: async (a) => (applied.push(a.id), { type: 'realtime' }),
      runTool: async (a, call) => (ran.push(`${a.id}:${call.name}`), { output: '{}', isError: false, durationMs: 0 }),
    });
    const transfer = await cc.run({ callId: 'c1', name: 'transfer_call', arguments: '{"target":"support-desk"}' });
    expect(JSON.parse(transfer.output)).toMatchObject({ transferringTo: 'support-desk' });
    expect(transfer.output).not.toContain('sip:');
    expect((await cc.run({ callId: 'c2', name: 'handoff', arguments: '{"agent":"nobody"}' })).isError).toBe(true);
    const handoff = await cc.run({ callId: 'c3', name: 'handoff', arguments: '{"agent":"concierge"}' });
    expect(JSON.parse(handoff.output)).toMatchObject({ handedOffTo: 'concierge' });
    expect(applied).toEqual(['concierge']);
    await cc.run({ callId: 'c4', name: 'get_weather', arguments: '{"city":"Paris"}' });
    expect(ran).toEqual(['concierge:get_weather']);
    // The concierge lists no transfer targets: its transfer is refused.
    expect(
      (await cc.run({ callId: 'c5', name: 'transfer_call', arguments: '{"target":"support-desk"}' })).isError,
    ).toBe(true);
  });
});
