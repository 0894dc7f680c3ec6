import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSessionConfig } from '../../shared/agents/session-config';
import type { AgentDefinition } from '../../shared/agents/schema';
import type { SessionConfig } from '../../shared/providers/types';
import { sessionLock } from '../../worker/session-lock';
import { agent, attachBody, FakeRealtime, fakeCore, until } from './fakes';

let fake: FakeRealtime;
beforeAll(async () => {
  fake = await FakeRealtime.start();
});
afterAll(async () => fake?.stop());

const support = { ...agent, handoffs: ['billing'], transferTargets: [] } as unknown as AgentDefinition;
const billing = {
  ...agent,
  id: 'billing',
  displayName: 'Billing desk',
  instructions: 'billing help',
  voice: 'cedar',
  handoffs: [],
  transferTargets: [],
} as unknown as AgentDefinition;
const agents = { get: async (id: string) => ({ support, billing })[id] };
const sessionConfig = (a: AgentDefinition, tools: never[], sessionId: string) =>
  buildSessionConfig(a, tools, { model: 'gpt-realtime', sessionId });

const handoffCall = (callId: string, to: string) => ({
  type: 'response.function_call_arguments.done',
  call_id: callId,
  name: 'handoff',
  arguments: JSON.stringify({ agent: to, reason: 'a refund' }),
  item_id: `item_${callId}`,
});
type Update = { session: SessionConfig };

describe('handoff in the worker', () => {
  it('applies the new agent, keeps the heard voice, tells the page and the row, and the lock guards the new agent', async () => {
    const changed: string[] = [];
    const f = fakeCore(fake, {
      agents,
      sessionConfig: sessionConfig as never,
      onAgentChanged: async (sessionId, agentId) => void changed.push(`${sessionId}:${agentId}`),
      extensions: [sessionLock({ workerId: 'w-test', report: async () => {}, log: () => {} })],
    });
    await f.core.attach(attachBody('s-ho', 'call-ho'));
    // The caller has heard the support agent's voice.
    fake.push('call-ho', { type: 'response.created', response: { id: 'r1' } });
    fake.push('call-ho', handoffCall('fc_ho', 'billing'));
    fake.push('call-ho', { type: 'response.done', response: { id: 'r1' } });
    await until(() => fake.sent('call-ho', 'session.update').length === 2);
    const update = fake.sent('call-ho', 'session.update')[1] as unknown as Update;
    expect(update.session.instructions).toContain('billing help');
    expect(update.session.audio?.output?.voice).toBe('alloy');
    await until(() => changed.length === 1);
    expect(changed).toEqual(['s-ho:billing']);
    expect(f.events).toContainEqual(expect.objectContaining({ type: 'agent', agentId: 'billing', from: 'support' }));
    // The output tells the new agent who it is; one answer is asked for.
    await until(() => fake.sent('call-ho', 'conversation.item.create').length === 1);
    const out = fake.sent('call-ho', 'conversation.item.create')[0] as { item: { output: string } };
    expect(JSON.parse(out.item.output)).toMatchObject({ handedOffTo: 'billing' });
    // A page putting the old agent's instructions back is reverted to the new agent's.
    fake.push('call-ho', { type: 'session.updated', session: { type: 'realtime', instructions: 'help' } });
    await until(() => fake.sent('call-ho', 'session.update').length === 3);
    const restore = fake.sent('call-ho', 'session.update')[2] as unknown as Update;
    expect(restore.session.instructions).toContain('billing help');
    // Billing lists no handoffs: the tool is no longer the session's, and a call to it is not run.
    expect(JSON.stringify(update.session.tools)).not.toContain('"handoff"');
    await f.core.stop();
  });

  it('refuses an agent the definition does not list, and changes nothing', async () => {
    const f = fakeCore(fake, { agents, sessionConfig: sessionConfig as never });
    await f.core.attach(attachBody('s-ho2', 'call-ho2'));
    fake.push('call-ho2', handoffCall('fc_ho2', 'concierge'));
    fake.push('call-ho2', { type: 'response.done', response: { id: 'r1' } });
    await until(() => fake.sent('call-ho2', 'conversation.item.create').length === 1);
    const out = fake.sent('call-ho2', 'conversation.item.create')[0] as { item: { output: string } };
    expect(out.item.output).toContain('cannot pass the caller');
    expect(fake.sent('call-ho2', 'session.update')).toHaveLength(1);
    expect(f.events.some((e) => e.type === 'agent')).toBe(false);
    await f.core.stop();
  });
});
