import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOOL_PROGRESS_AFTER_MS } from '../../shared/mcp/output';
import { ALREADY_ACTIVE, GATE_TAG } from '../../worker/response-gate';
import type { SidebandContext } from '../../worker/sideband';
import { attachBody, FakeRealtime, fakeCore, until } from './fakes';

let fake: FakeRealtime;
beforeAll(async () => {
  fake = await FakeRealtime.start();
});
afterAll(async () => fake?.stop());

const fnCall = (callId: string) => ({
  type: 'response.function_call_arguments.done',
  call_id: callId,
  name: 'get_order',
  arguments: '1234',
  item_id: `item_${callId}`,
});
type Create = { event_id: string; response: { metadata: Record<string, string> } };
const creates = (callId: string) => fake.sent(callId, 'response.create') as unknown as Create[];

describe('sideband: one response in flight', () => {
  it('a long tool: the result is asked for after the "one moment" response is done, and asked again when refused', async () => {
    const f = fakeCore(fake);
    f.gateway.delayMs = TOOL_PROGRESS_AFTER_MS + 300;
    await f.core.attach(attachBody('s-lg', 'call-lg'));
    fake.push('call-lg', fnCall('fc_lg'));
    fake.push('call-lg', { type: 'response.done', response: { id: 'r0' } });
    await until(() => creates('call-lg').length === 1, 5000);
    const [progress] = creates('call-lg');
    expect(progress!.response.metadata).toMatchObject({ purpose: 'tool_progress' });
    // The tool answers before the progress response has even started: the output goes out, the ask waits.
    await until(() => fake.sent('call-lg', 'conversation.item.create').length === 1, 5000);
    await until(() => f.core.sessions.get('s-lg')?.gate.state.queued.length === 1);
    expect(creates('call-lg')).toHaveLength(1);
    fake.push('call-lg', {
      type: 'response.created',
      response: { id: 'r-progress', metadata: progress!.response.metadata },
    });
    fake.push('call-lg', { type: 'response.done', response: { id: 'r-progress' } });
    await until(() => creates('call-lg').length === 2);
    const result = creates('call-lg')[1]!;
    expect(result.response.metadata[GATE_TAG]).toBe(result.event_id);
    // The caller spoke meanwhile: the service refuses the ask. It is asked again once that turn is done.
    fake.push('call-lg', { type: 'response.created', response: { id: 'r-vad', metadata: null } });
    fake.push('call-lg', {
      type: 'error',
      error: { type: 'invalid_request_error', code: ALREADY_ACTIVE, message: 'busy', event_id: result.event_id },
    });
    await until(() => f.core.sessions.get('s-lg')?.gate.state.queued.length === 1);
    expect(creates('call-lg')).toHaveLength(2);
    fake.push('call-lg', { type: 'response.done', response: { id: 'r-vad' } });
    await until(() => creates('call-lg').length === 3);
    await f.core.stop();
  });

  it('extensions see typed events, may ask the gate for a response, and are cleaned up when the session stops', async () => {
    const seen: string[] = [];
    let stopped = 0;
    const ext = (ctx: SidebandContext) => {
      ctx.events.on('session.updated', (e) => {
        seen.push(`updated:${e.session.type}`);
        ctx.gate.request({ kind: 'revert', response: { instructions: 'Say: "settings restored"' } });
      });
      ctx.events.onAny((e) => e.type === 'unknown' && seen.push(`unknown:${e.originalType}`));
      return () => void stopped++;
    };
    const f = fakeCore(fake, { extensions: [ext] });
    await f.core.attach(attachBody('s-ext', 'call-ext'));
    fake.push('call-ext', { type: 'session.updated', session: { type: 'realtime' } });
    fake.push('call-ext', { type: 'vendor.custom', x: 1 });
    await until(() => seen.length === 2);
    expect(seen).toEqual(['updated:realtime', 'unknown:vendor.custom']);
    await until(() => creates('call-ext').length === 1);
    expect(creates('call-ext')[0]!.response).toMatchObject({ instructions: 'Say: "settings restored"' });
    f.core.detach('s-ext', 'test over');
    expect(stopped).toBe(1);
    await f.core.stop();
  });
});
