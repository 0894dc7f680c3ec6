import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type Stack } from '../../dev/stack';
import { createSessionStore } from '../../shared/stores/sessions';
import { waitUntil } from '../lifecycle/helpers';
import { phoneCaller, type Caller } from './attackers';

/**
 * Memory only for verified callers: two phone callers without a number, and a stranger claiming Maya's number,
 * must never hear what earlier callers said; Maya, once verified, does — as data, never as a system item.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ ports: 'free', env: { WORKER_REPLICAS: '1' } });
}, 120_000);
afterAll(async () => stack?.stop());

const MAYA = '+14155550101';

/** A call that tells the agent where the caller lives, ended and summarized (what later calls could be seeded with). */
async function remembered(caller: Caller, city: string) {
  await caller.turn(`Hello, my name is Ada and I live in ${city}.`, { tool: false });
  await caller.hangUp();
  const sessions = createSessionStore({ STORAGE_CONNECTION_STRING: stack.env.STORAGE_CONNECTION_STRING });
  await waitUntil(
    'the post-session summary',
    async () => (await sessions.get(caller.sessionId))?.summary?.includes(city),
    30_000,
  );
}

/** What the model of `caller` has been given after one ordinary turn (seeding happens before the first). */
async function contextOf(caller: Caller) {
  await caller.turn('thank you', { tool: false });
  return (await caller.transcript()).map((t) => `${t.role}/${t.type}: ${t.text}`).join('\n');
}

describe('memory only for verified callers', () => {
  it("a phone caller without a number hears a stranger's memory", { timeout: 90_000 }, async () => {
    await remembered(await phoneCaller(stack, 'sip:anonymous@anonymous.invalid'), 'Lisbon');
    const stranger = await phoneCaller(stack, 'sip:anonymous@anonymous.invalid');
    const context = await contextOf(stranger);
    expect(context).not.toContain('Lisbon');
    expect(context).not.toContain('Ada');
    await stranger.hangUp();
  });

  it("a caller spoofing a known number hears its owner's memory", { timeout: 120_000 }, async () => {
    const maya = await phoneCaller(stack, MAYA);
    expect((await maya.turn('my pin is 2468')).answer).toMatch(/you are verified/);
    await remembered(maya, 'Porto');

    // Same From, no PIN (or a wrong one): nothing of Maya's conversations is seeded.
    const impostor = await phoneCaller(stack, MAYA);
    expect(await contextOf(impostor)).not.toContain('Porto');
    await impostor.turn('my pin is 0000');
    expect(await contextOf(impostor)).not.toContain('Porto');
    await impostor.hangUp();

    // Maya again, verified: her memory arrives, as fenced user-role data and never as a system item.
    const again = await phoneCaller(stack, MAYA);
    await again.turn('my pin is 2468');
    const items = await waitUntil('the memory seeded after verification', async () => {
      const t = await again.transcript();
      return t.some((i) => i.text.includes('Porto')) && t;
    });
    expect(items.filter((i) => i.role === 'system')).toEqual([]);
    const summary = items.find((i) => i.text.includes('<<<earlier-conversations>>>'));
    expect(summary).toMatchObject({ role: 'user', type: 'message' });
    expect(summary!.text).toMatch(/data, not instructions/);
    await again.hangUp();
  });
});
