import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { BUILTIN_AUDIENCE, CALLER_HEADER, identityKey, signCallerToken } from '../../shared/mcp/identity';
import { tableClient, TABLES } from '../../shared/storage/tables';
import { phoneCaller, webUser } from './attackers';

/**
 * Tools act for the caller. Two signed-in users (Maya owns order 1234, Jonas owns 1001) and two phone callers
 * (one claiming Maya's number without knowing her PIN, the real Maya with it) against the local stack.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ ports: 'free', env: { WORKER_REPLICAS: '1', MCP_TOOL_CALLS_PER_SESSION: '3' } });
}, 120_000);
afterAll(async () => stack?.stop());

const MAYA_TRACKING = '1Z999AA10123456784';
const mcp = () => `${stack.url('functions')}/mcp`;
const rpc = (body: unknown, headers: Record<string, string> = {}) =>
  fetch(mcp(), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });

describe('tools act for the verified caller', () => {
  it("a web user asks for another customer's order", { timeout: 60_000 }, async () => {
    const jonas = await webUser(stack, 'jonas');
    const t = await jonas.turn('where is my order 1234');
    // The tool refused as if the order did not exist; nothing of Maya's order reached the model.
    expect(t.outputs).toHaveLength(1);
    expect(t.outputs[0]).toMatch(/No order 1234 was found on this customer's account/);
    expect(t.outputs.join(' ') + t.answer).not.toMatch(new RegExp(`${MAYA_TRACKING}|Maya|shipped|UPS`));
    // His own order is his.
    const own = await jonas.turn('where is my order 1001');
    expect(JSON.parse(own.outputs[0]!)).toMatchObject({ orderId: '1001', customerId: 'jonas' });
    await jonas.hangUp();
  });

  it("a web user opens a ticket on another customer's order", { timeout: 60_000 }, async () => {
    const tickets = tableClient({ STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING }, TABLES.tickets);
    const count = async () => {
      let n = 0;
      for await (const _ of tickets.listEntities()) n++;
      return n;
    };
    const before = await count();
    const jonas = await webUser(stack, 'jonas');
    const t = await jonas.turn('please open a ticket for order 1234');
    expect(t.outputs[0]).toMatch(/No order 1234 was found on this customer's account, so no ticket was opened/);
    expect(await count()).toBe(before);
    await jonas.hangUp();
  });

  it('an unverified phone caller reads an order', { timeout: 60_000 }, async () => {
    // The SIP From is the caller's word: claiming Maya's number gets nothing without her PIN.
    const impostor = await phoneCaller(stack, '+14155550101');
    const asked = await impostor.turn('where is my order 1234');
    expect(asked.outputs[0]).toMatch(/not verified/);
    expect(asked.answer).toMatch(/not verified/);
    const guessed = await impostor.turn('my pin is 1111');
    expect(guessed.outputs[0]).toMatch(/PIN does not match/);
    const again = await impostor.turn('where is my order 1234');
    expect(again.outputs.join(' ') + again.answer).not.toContain(MAYA_TRACKING);
    await impostor.hangUp();

    // The real Maya, with her PIN, gets her order.
    const maya = await phoneCaller(stack, '+14155550101');
    expect((await maya.turn('my pin is 2468')).answer).toMatch(/you are verified/);
    const order = await maya.turn('where is my order 1234');
    expect(JSON.parse(order.outputs[0]!)).toMatchObject({ orderId: '1234', trackingNumber: MAYA_TRACKING });
    await maya.hangUp();
  });

  it(
    'a caller without an identity calls the built-in MCP server directly, or sends a batch',
    { timeout: 60_000 },
    async () => {
      const list = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} };
      const call = {
        jsonrpc: '2.0',
        id: 2,
        method: 'tools/call',
        params: { name: 'get_order', arguments: { orderId: '1234' } },
      };
      const anonymous = await rpc(call);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.text()).not.toContain(MAYA_TRACKING);
      const forged = await rpc(list, { 'x-caller-identity': 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyOm1heWEifQ.' });
      expect(forged.status).toBe(401);
      const batch = Array.from({ length: 100 }, (_, i) => ({ ...call, id: i }));
      const unsigned = await rpc(batch);
      expect(unsigned.status).toBe(401);
      expect(await unsigned.text()).not.toContain(MAYA_TRACKING);
      // Even a caller the worker vouches for gets one call per request, never a batch of a hundred.
      const token = await signCallerToken(
        identityKey(stack.env.WORKER_AUTH_SECRET!),
        { subject: 'user:maya', customerId: 'maya', sessionId: 's-batch' },
        BUILTIN_AUDIENCE,
      );
      const signed = await rpc(batch, { [CALLER_HEADER]: token });
      expect(signed.status).toBe(400);
      expect(await signed.json()).toMatchObject({ error: { code: -32600, message: expect.stringMatching(/batch/i) } });
    },
  );

  it("a model keeps calling tools past the session's budget", { timeout: 60_000 }, async () => {
    const maya = await webUser(stack, 'maya');
    for (let i = 0; i < 3; i++) expect((await maya.turn('where is my order 1234')).outputs[0]).toContain('"1234"');
    const over = await maya.turn('where is my order 1234');
    expect(over.outputs[0]).toMatch(/limit of 3 tool calls/);
    expect(over.outputs[0]).not.toContain(MAYA_TRACKING);
    await maya.hangUp();
  });
});
