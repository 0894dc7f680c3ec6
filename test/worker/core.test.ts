import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputItemId } from '../../worker/sideband';
import { INTERRUPTED_OUTPUT, NOT_STARTED_OUTPUT } from '../../worker/tools';
import { attachBody, FakeRealtime, fakeCore, until } from './fakes';
import { withSessionReference } from '../../shared/calls/binding';

let fake: FakeRealtime;
beforeAll(async () => {
  fake = await FakeRealtime.start();
});
afterAll(async () => fake?.stop());

const fnCall = (callId: string, args = '1234') => ({
  type: 'response.function_call_arguments.done',
  call_id: callId,
  name: 'get_order',
  arguments: args,
  item_id: `item_${callId}`,
});

describe('worker core: attach and session settings', () => {
  it('opens one sideband per session, applies the agent settings (without model), and is idempotent', async () => {
    const { core } = fakeCore(fake);
    expect(await core.attach(attachBody('s-a', 'call-a'))).toEqual({ already: false });
    expect(await core.attach(attachBody('s-a', 'call-a'))).toEqual({ already: true });
    expect(fake.openCount('call-a')).toBe(1);
    await until(() => fake.sent('call-a', 'session.update').length === 1);
    const [update] = fake.sent('call-a', 'session.update');
    expect(update).toMatchObject({ session: { type: 'realtime', instructions: withSessionReference('help', 's-a') } });
    expect((update!.session as Record<string, unknown>).model).toBeUndefined();
    // The same session resumed with a new call moves to it.
    expect(await core.attach(attachBody('s-a', 'call-a2'))).toEqual({ already: false });
    await until(() => fake.openCount('call-a') === 0 && fake.openCount('call-a2') === 1);
    expect(core.sessions.get('s-a')?.attach.callId).toBe('call-a2');
    await core.stop();
    await until(() => fake.openCount('call-a2') === 0);
  });

  it('applies the turn-detection tuning a SIP accept cannot carry in its first session.update after attach', async () => {
    const turn_detection = {
      type: 'server_vad' as const,
      threshold: 0.7,
      prefix_padding_ms: 250,
      silence_duration_ms: 650,
    };
    const { core } = fakeCore(fake, {
      sessionConfig: () => ({
        type: 'realtime',
        model: 'gpt-realtime',
        instructions: 'help',
        audio: { input: { turn_detection } },
      }),
    });
    await core.attach({ ...attachBody('s-td', 'call-td'), transport: 'sip' });
    await until(() => fake.sent('call-td').length >= 1);
    expect(fake.sent('call-td')[0]).toMatchObject({
      type: 'session.update',
      session: { audio: { input: { turn_detection } } },
    });
    await core.stop();
  });

  it('takes the session context from the attach when the lifecycle carries it, reading the row only otherwise', async () => {
    const reads: string[] = [];
    const seeded: { partition: string; resume?: boolean }[] = [];
    const { core } = fakeCore(fake, {
      sessionInfo: async (id) => (reads.push(id), { historyPartition: 'user:from-row', resume: true }),
      seed: async (s) => (seeded.push({ partition: s.partition, resume: s.resume }), []),
    });
    await core.attach({
      ...attachBody('s-ctx', 'call-ctx'),
      context: { historyPartition: 'user:from-attach', resume: false },
    });
    await core.attach(attachBody('s-row', 'call-row'));
    expect(reads).toEqual(['s-row']);
    expect(seeded).toEqual([
      { partition: 'user:from-attach', resume: false },
      { partition: 'user:from-row', resume: true },
    ]);
    await core.stop();
  });

  it('a worker the lifecycle declared lost refuses the re-attach (503) and lets go of its old socket', async () => {
    const { core } = fakeCore(fake);
    await core.attach(attachBody('s-av', 'call-av'));
    await expect(core.attach({ ...attachBody('s-av', 'call-av', 1), avoidWorkers: ['w-test'] })).rejects.toMatchObject({
      status: 503,
      code: 'worker_avoided',
    });
    expect(core.sessions.has('s-av')).toBe(false);
    await until(() => fake.openCount('call-av') === 0);
    await core.stop();
  });

  it('refuses an attach for a call on another realtime provider (409, not retried)', async () => {
    const { core } = fakeCore(fake, { provider: 'emulator' });
    await expect(core.attach({ ...attachBody('s-p', 'call-p'), provider: 'openai' })).rejects.toMatchObject({
      status: 409,
      code: 'provider_mismatch',
    });
    expect(await core.attach({ ...attachBody('s-p', 'call-p'), provider: 'emulator' })).toEqual({ already: false });
    await core.stop();
  });

  it('refuses unknown agents (422) and calls that are gone (404)', async () => {
    const { core } = fakeCore(fake);
    await expect(core.attach({ ...attachBody('s-b', 'call-b'), agentId: 'nobody' })).rejects.toMatchObject({
      status: 422,
      code: 'unknown_agent',
    });
    fake.ended.add('call-gone');
    await expect(core.attach(attachBody('s-c', 'call-gone'))).rejects.toMatchObject({
      status: 404,
      code: 'call_not_found',
    });
    expect(core.sessions.size).toBe(0);
  });
});

describe('worker core: tool calls', () => {
  it('runs a function call exactly once, sends its output with our item id, then asks for a response when idle', async () => {
    const { core, gateway, toolRuns, events } = fakeCore(fake);
    await core.attach(attachBody('s-t', 'call-t'));
    fake.push('call-t', { type: 'response.created', response: { id: 'r1' } });
    fake.push('call-t', fnCall('fc_1'));
    fake.push('call-t', fnCall('fc_1')); // the same event again (duplicate delivery)
    await until(() => fake.sent('call-t', 'conversation.item.create').length === 1);
    // A response is still active: no response.create until it is done.
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.sent('call-t', 'response.create')).toHaveLength(0);
    fake.push('call-t', { type: 'response.done', response: { id: 'r1' } });
    await until(() => fake.sent('call-t', 'response.create').length === 1);
    expect(gateway.runs).toHaveLength(1);
    const [item] = fake.sent('call-t', 'conversation.item.create');
    expect(item).toMatchObject({ item: { id: outputItemId('fc_1'), type: 'function_call_output', call_id: 'fc_1' } });
    await until(async () => (await toolRuns.undelivered('s-t')).length === 0);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['tool.started', 'tool.finished']));
    await core.stop();
  });

  it('a re-attached worker re-sends a stored output and marks an unfinished run interrupted — never re-runs', async () => {
    const a = fakeCore(fake);
    // Worker A ran fc_done (output stored, never sent) and died while running fc_running.
    await a.toolRuns.claim({ sessionId: 's-r', callId: 'fc_done', name: 'get_order', workerId: 'w-dead', at: 1 });
    await a.toolRuns.complete('s-r', 'fc_done', { output: 'stored output', isError: false, durationMs: 5 });
    await a.toolRuns.claim({ sessionId: 's-r', callId: 'fc_running', name: 'get_order', workerId: 'w-dead', at: 2 });
    await a.core.attach(attachBody('s-r', 'call-r', 1));
    await until(() => fake.sent('call-r', 'conversation.item.create').length === 2);
    const outputs = fake
      .sent('call-r', 'conversation.item.create')
      .map((e) => e.item as { call_id: string; output: string });
    expect(outputs).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ call_id: 'fc_done', output: 'stored output' }),
        expect.objectContaining({ call_id: 'fc_running', output: INTERRUPTED_OUTPUT('get_order') }),
      ]),
    );
    await until(() => fake.sent('call-r', 'response.create').length === 1);
    // The model's repeated function_call events for those ids never run the tool.
    fake.push('call-r', fnCall('fc_done'));
    fake.push('call-r', fnCall('fc_running'));
    await new Promise((r) => setTimeout(r, 50));
    expect(a.gateway.runs).toHaveLength(0);
    expect(await a.toolRuns.undelivered('s-r')).toEqual([]);
    await a.core.stop();
  });

  it('when the claim cannot be written the tool does not run and the model hears that nothing happened', async () => {
    const f = fakeCore(fake);
    f.toolRuns.claim = async () => {
      throw new Error('storage unavailable');
    };
    await f.core.attach(attachBody('s-cf', 'call-cf'));
    fake.push('call-cf', fnCall('fc_cf'));
    await until(() => fake.sent('call-cf', 'conversation.item.create').length === 1);
    expect(fake.sent('call-cf', 'conversation.item.create')[0]).toMatchObject({
      item: { call_id: 'fc_cf', output: NOT_STARTED_OUTPUT('get_order') },
    });
    expect(f.gateway.runs).toHaveLength(0);
    await f.core.stop();
  });

  it('two workers holding the same call (a drain overlap) run a call id once between them', async () => {
    const one = fakeCore(fake, { workerId: 'w-1' });
    const two = fakeCore(fake, { workerId: 'w-2', toolRuns: one.toolRuns });
    await one.core.attach(attachBody('s-d', 'call-d'));
    await two.core.attach(attachBody('s-d', 'call-d'));
    fake.push('call-d', fnCall('fc_shared'));
    await until(() => fake.sent('call-d', 'conversation.item.create').length >= 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(one.gateway.runs.length + two.gateway.runs.length).toBe(1);
    expect(fake.sent('call-d', 'conversation.item.create')).toHaveLength(1);
    await one.core.stop();
    await two.core.stop();
  });
});

describe('worker core: transcripts, heartbeats, reconnects', () => {
  it('stores completed items once, batched per partition on the shared tick; skips seeded items', async () => {
    const { core, appended } = fakeCore(fake);
    await core.attach(attachBody('s-x1', 'call-x1'));
    await core.attach({ ...attachBody('s-x2', 'call-x2'), userId: 'u2' });
    fake.push('call-x1', {
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_u1',
      transcript: 'hello',
    });
    fake.push('call-x1', {
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_u1',
      transcript: 'hello',
    });
    fake.push('call-x1', {
      type: 'response.output_item.done',
      item: {
        id: 'item_a1',
        type: 'message',
        role: 'assistant',
        content: [{ type: 'output_audio', transcript: 'hi there' }],
      },
    });
    fake.push('call-x1', {
      type: 'conversation.item.done',
      item: { id: 'mem_seed', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'old' }] },
    });
    fake.push('call-x2', {
      type: 'conversation.item.done',
      item: { id: 'item_t2', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'typed' }] },
    });
    await until(() => core.transcripts.size === 3);
    await core.tick();
    expect(appended.map((a) => a.partition).sort()).toEqual(['user:u1', 'user:u2']);
    const u1 = appended.find((a) => a.partition === 'user:u1')!.items;
    expect(u1.map((i) => [i.itemId, i.role, i.text])).toEqual([
      ['item_u1', 'user', 'hello'],
      ['item_a1', 'assistant', 'hi there'],
    ]);
    await core.stop();
  });

  it('feeds a per-session observer: every event (deltas as their type only), tool calls, and the end', async () => {
    const seen: string[] = [];
    const tools: string[] = [];
    const ends: string[] = [];
    const f = fakeCore(fake, {
      observe: (ids) => ({
        onServerEvent: (e) => void seen.push(String(e.type) + ('delta' in e ? ':parsed' : '')),
        toolCall: async (call, fn) => (tools.push(`${ids.sessionId}/${call.name}`), fn()),
        end: (o) => void ends.push(`${ids.sessionId}:${o.reason}`),
      }),
    });
    await f.core.attach(attachBody('s-o', 'call-o'));
    fake.push('call-o', { type: 'response.output_audio.delta', response_id: 'r', delta: 'AAAA' });
    fake.push('call-o', { type: 'input_audio_buffer.speech_stopped', item_id: 'i1' });
    fake.push('call-o', fnCall('fc_o'));
    await until(() => tools.length === 1 && seen.length === 3);
    expect(seen).toEqual([
      'response.output_audio.delta',
      'input_audio_buffer.speech_stopped',
      'response.function_call_arguments.done',
    ]);
    expect(tools).toEqual(['s-o/get_order']);
    f.core.detach('s-o', 'test over');
    expect(ends).toEqual(['s-o:test over']);
    await f.core.stop();
  });

  it("a detach for the lifecycle answers only after the session's last transcript items are written", async () => {
    const { core, appended } = fakeCore(fake, { tickMs: 60_000 });
    await core.attach(attachBody('s-fl', 'call-fl'));
    fake.push('call-fl', {
      type: 'conversation.item.input_audio_transcription.completed',
      item_id: 'item_last',
      transcript: 'bye',
    });
    await until(() => core.transcripts.size === 1);
    expect(await core.detachAndFlush('s-fl', 'session ending')).toBe(true);
    expect(appended.flatMap((a) => a.items.map((i) => i.itemId))).toEqual(['item_last']);
    await core.stop();
  });

  it('heartbeats every session in one request per tick and lets go of sessions the lifecycle moved', async () => {
    const f = fakeCore(fake);
    await f.core.attach(attachBody('s-h1', 'call-h1'));
    await f.core.attach(attachBody('s-h2', 'call-h2'));
    f.drop.push('s-h2');
    await f.core.tick();
    expect(f.heartbeats).toHaveLength(1);
    expect(f.heartbeats[0]!.sessionIds.sort()).toEqual(['s-h1', 's-h2']);
    expect([...f.core.sessions.keys()]).toEqual(['s-h1']);
    await until(() => fake.openCount('call-h2') === 0);
    await f.core.stop();
  });

  it('reconnects a dropped sideband and re-applies settings; reports ended when the call is gone', async () => {
    const f = fakeCore(fake);
    await f.core.attach(attachBody('s-n', 'call-n'));
    await until(() => fake.sent('call-n', 'session.update').length === 1);
    fake.drop('call-n');
    await until(() => fake.openCount('call-n') === 0);
    await until(() => fake.openCount('call-n') === 1 && fake.sent('call-n', 'session.update').length === 2);
    fake.drop('call-n', true);
    await until(() => f.reports.length === 1);
    expect(f.reports[0]).toMatchObject({
      sessionId: 's-n',
      report: { type: 'ended', workerId: 'w-test', reason: 'call ended' },
    });
    expect(f.core.sessions.size).toBe(0);
  });

  it('drain waits for a tool still running so its real output is stored for the next worker', async () => {
    const f = fakeCore(fake);
    f.gateway.delayMs = 1000; // longer than the drain: the socket is gone before the tool answers
    await f.core.attach(attachBody('s-dt', 'call-dt'));
    fake.push('call-dt', fnCall('fc_dt'));
    await until(() => f.gateway.runs.length === 1);
    f.drop.push('s-dt');
    await f.core.drain(50);
    const [run] = [...f.toolRuns.runs.values()].filter((r) => r.sessionId === 's-dt');
    expect(run).toMatchObject({ status: 'done', output: expect.stringContaining('shipped') });
    await f.core.stop();
  });

  it('drain: refuses new attaches, reports every session for re-attach, then lets go', async () => {
    const f = fakeCore(fake);
    await f.core.attach(attachBody('s-dr', 'call-dr'));
    f.drop.push('s-dr'); // the lifecycle moves it as soon as it hears of the drain
    await f.core.drain(2000);
    expect(f.reports).toEqual([
      { sessionId: 's-dr', report: { type: 'workerLost', workerId: 'w-test', reason: 'worker draining' } },
    ]);
    expect(f.core.sessions.size).toBe(0);
    expect(f.core.ready).toBe(false);
    await expect(f.core.attach(attachBody('s-new', 'call-new'))).rejects.toMatchObject({
      status: 503,
      code: 'draining',
    });
    await f.core.stop();
  });
});
