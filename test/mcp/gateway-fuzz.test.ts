import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { agentSchema } from '../../shared/agents/schema';
import { createToolGateway, type McpToolGateway } from '../../shared/mcp/gateway';
import { startFakeMcp, type FakeMcp } from './fake-mcp';

/** Whatever the model produces — names, JSON or garbage — run() resolves with a string and never calls a
 *  tool outside the allow-list. */
describe('tool gateway under arbitrary model output', () => {
  let server: FakeMcp;
  let gateway: McpToolGateway;
  const agent = () =>
    agentSchema.parse({
      id: 'fuzz',
      displayName: 'f',
      instructions: 'f',
      voice: 'alloy',
      mcpServers: [{ name: 'srv', url: server.url, allowedTools: ['allowed_tool'] }],
    });

  beforeAll(async () => {
    const ok = () => ({ content: [{ type: 'text' as const, text: 'ok' }] });
    server = await startFakeMcp([
      { name: 'allowed_tool', input: { id: z.string().max(10), n: z.number().int().optional() }, run: ok },
      { name: 'forbidden_tool', input: {}, run: ok },
    ]);
    gateway = createToolGateway({ MCP_TOOL_TIMEOUT_MS: 2000 });
  });
  afterAll(async () => {
    await gateway?.close();
    await server?.close();
  });

  it('always resolves with an output and only ever calls the allowed tool with valid arguments', async () => {
    // Valid calls must be common enough that the property also covers the path that reaches the server.
    const name = fc.oneof(
      { weight: 3, arbitrary: fc.constant('allowed_tool') },
      fc.constantFrom('allowed_tool', 'forbidden_tool', 'srv__allowed_tool', 'srv__forbidden_tool', 'ALLOWED_TOOL', ''),
      fc.string({ maxLength: 80 }),
    );
    const args = fc.oneof(
      fc
        .record({ id: fc.string({ maxLength: 10 }), n: fc.integer() }, { requiredKeys: ['id'] })
        .map((o) => JSON.stringify(o)),
      fc.json(),
      fc.string({ maxLength: 200 }),
      fc
        .record(
          { id: fc.string({ maxLength: 20 }), n: fc.oneof(fc.integer(), fc.double(), fc.string()) },
          { requiredKeys: [] },
        )
        .map((o) => JSON.stringify(o)),
    );
    let i = 0;
    await fc.assert(
      fc.asyncProperty(name, args, async (n, a) => {
        const r = await gateway.run(agent(), { callId: `fuzz_${i++}`, name: n, arguments: a });
        expect(typeof r.output).toBe('string');
        expect(r.output.length).toBeGreaterThan(0);
        expect(typeof r.isError).toBe('boolean');
      }),
      { numRuns: 300 },
    );
    expect(server.calls.length).toBeGreaterThan(0);
    expect(server.calls.every((c) => c.name === 'allowed_tool')).toBe(true);
    for (const c of server.calls) {
      const parsed = z
        .object({ id: z.string().max(10), n: z.number().int().optional() })
        .strict()
        .safeParse(c.args);
      expect(parsed.success, JSON.stringify(c.args)).toBe(true);
    }
  });
});
