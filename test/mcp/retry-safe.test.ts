import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSchema } from '../../shared/agents/schema';
import { createToolGateway, type McpToolGateway } from '../../shared/mcp/gateway';
import { startFakeMcp, type FakeMcp } from './fake-mcp';

const ok = () => ({ content: [{ type: 'text' as const, text: 'ok' }] });

/** Which calls may skip the exactly-once bookkeeping: decided from the server's annotations and the agent. */
describe('tool gateway: retry-safe tools', () => {
  let mcp: FakeMcp;
  let gateway: McpToolGateway;
  beforeAll(async () => {
    mcp = await startFakeMcp([
      { name: 'lookup', input: {}, annotations: { readOnlyHint: true }, run: ok },
      { name: 'set_flag', input: {}, annotations: { readOnlyHint: false, idempotentHint: true }, run: ok },
      { name: 'charge', input: {}, annotations: { readOnlyHint: false, idempotentHint: false }, run: ok },
      { name: 'unannotated', input: {}, run: ok },
      { name: 'vouched', input: {}, run: ok },
    ]);
    gateway = createToolGateway({});
  });
  afterAll(async () => {
    await gateway?.close();
    await mcp?.close();
  });

  const agent = (retrySafeTools?: string[]) =>
    agentSchema.parse({
      id: 'retry-agent',
      displayName: 'Retry',
      instructions: 'test',
      voice: 'alloy',
      mcpServers: [
        {
          name: 'fake',
          url: mcp.url,
          allowedTools: ['lookup', 'set_flag', 'charge', 'unannotated', 'vouched'],
          ...(retrySafeTools ? { retrySafeTools } : {}),
        },
      ],
    });

  it('read-only and idempotent tools are retry-safe; tools with effects, or saying nothing, are not', async () => {
    const a = agent();
    expect(await gateway.retrySafe(a, 'lookup')).toBe(true);
    expect(await gateway.retrySafe(a, 'set_flag')).toBe(true);
    expect(await gateway.retrySafe(a, 'charge')).toBe(false);
    expect(await gateway.retrySafe(a, 'unannotated')).toBe(false);
  });

  it('the agent definition can vouch for a tool the server does not annotate', async () => {
    const a = agent(['vouched']);
    expect(await gateway.retrySafe(a, 'vouched')).toBe(true);
    expect(await gateway.retrySafe(a, 'unannotated')).toBe(false);
  });

  it('a tool the gateway cannot resolve is never assumed safe (it may resolve by the time it runs)', async () => {
    expect(await gateway.retrySafe(agent(), 'not_offered')).toBe(false);
  });
});
