import OpenAI, { AzureOpenAI } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { RawClient } from './helpers';
import { attachSideband, openLive, speechAppends } from './live-helpers';

const KEY = 'server-key';
let emu: RealtimeEmulator;
let openai: OpenAI;

beforeAll(async () => {
  emu = await startRealtimeEmulator({ profile: 'live', apiKeys: [KEY], liveUsageIntervalMs: 200 });
  await emu.ready();
  openai = new OpenAI({ apiKey: KEY, baseURL: `${emu.url}/v1` });
});
afterAll(async () => {
  await emu?.stop();
});

const support = {
  model: 'gpt-live-1',
  instructions: 'You are a customer support agent.',
  audio: { output: { voice: 'marin' } },
  delegation: { type: 'client' as const },
};

describe('the openai package LiveWS and SidebandWS against the live profile', () => {
  it('starts with session.start, hears a spoken request, delegates it, and speaks the sideband result', async () => {
    const { ws, events } = openLive(openai);
    ws.send({ type: 'session.start', event_id: 'evt_start', session: support });
    const started = await events.waitFor('session.started');
    expect(started.client_event_id).toBe('evt_start');
    const session = started.session as { id: string; status: string; audio: unknown; delegation: unknown };
    expect(session.id).toMatch(/^live_/);
    expect(session).toMatchObject({
      model: 'gpt-live-1',
      status: 'active',
      instructions: support.instructions,
      audio: { output: { voice: 'marin' }, format: { type: 'audio/pcm', rate: 24000 } },
      delegation: { type: 'client' },
    });

    const side = await attachSideband(openai, session.id);
    for (const append of await speechAppends('where is my order 1234')) ws.send(append);

    // Input transcript deltas, no "done" event: the deltas add up to what was said.
    expect(await events.until('session.input_transcript.delta', 'where is my order 1234')).toBe(
      'where is my order 1234',
    );
    const delegated = await side.events.waitFor('session.delegation.created');
    const delegation = delegated.delegation as { id: string; type: string; target: string };
    expect(delegation).toMatchObject({ type: 'delegation', target: 'client' });
    expect(delegation.id).toMatch(/^item_/);
    expect(delegation).not.toHaveProperty('response_id');
    expect(typeof delegated.offset_ms).toBe('number');
    // The primary sees the delegation too; attaching replayed nothing (no session.started on the sideband).
    await events.waitFor('session.delegation.created');
    expect(side.events.types()).not.toContain('session.started');

    side.ws.send({
      type: 'session.commentary.append',
      event_id: 'evt_result',
      delegation_id: delegation.id,
      content: JSON.stringify({ orderId: '1234', status: 'shipped' }),
    });
    const ack = await side.events.waitFor('session.commentary.appended');
    expect(ack.client_event_id).toBe('evt_result');
    // The model acknowledged the delegation on its own (no delay configured), then spoke the result.
    const said = await events.until('session.output_transcript.delta', 'Order 1234 is shipped.');
    expect(said.indexOf('One moment, let me check.')).toBeGreaterThanOrEqual(0);
    expect(said.indexOf('One moment, let me check.')).toBeLessThan(said.indexOf('Order 1234 is shipped.'));
    // Audio goes to the primary as raw PCM deltas; the sideband's copy carries timestamps.
    const primaryAudio = await events.waitFor('session.output_audio.delta');
    expect(primaryAudio).not.toHaveProperty('start_ms');
    const sideAudio = await side.events.waitFor('session.output_audio.delta');
    expect(sideAudio.end_ms as number).toBeGreaterThan(sideAudio.start_ms as number);
    // The sideband also hears the caller's audio, reflected.
    await side.events.waitFor('session.input_audio.append');
    const usage = await side.events.waitFor(
      'session.usage.updated',
      (e) => (e.usage as { seconds: number }).seconds > 0,
    );
    expect(usage.usage).toEqual({ seconds: expect.any(Number) });

    side.ws.send({ type: 'session.close', event_id: 'evt_close' });
    const closed = await events.waitFor('session.closed');
    expect(closed.reason).toBe('close_requested');
    expect((closed.session as { id: string }).id).toBe(session.id);
    await side.events.waitFor('session.closed');
  }, 60_000);

  it('refuses what a sideband may not send, with the error the service sends', async () => {
    const { ws, events } = openLive(openai);
    ws.send({ type: 'session.start', session: support });
    const started = await events.waitFor('session.started');
    const side = await attachSideband(openai, (started.session as { id: string }).id);
    side.ws.sendRaw(JSON.stringify({ type: 'session.input_audio.append', event_id: 'evt_audio', audio: 'AAAA' }));
    const refused = await side.events.waitFor('error');
    expect(refused.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'invalid_value',
      param: 'type',
      client_event_id: 'evt_audio',
    });
    expect((refused.error as { message: string }).message).toContain("'session.input_audio.append'");
    side.ws.sendRaw(JSON.stringify({ type: 'session.start', session: support }));
    await side.events.waitFor('error', (e) =>
      String((e.error as { message: string }).message).includes("'session.start'"),
    );
    // The error goes only to the connection that caused it.
    expect(events.types()).not.toContain('error');
    // What a sideband may do: mute, and Responses commands are refused under client delegation.
    side.ws.send({ type: 'session.input_audio.mute', event_id: 'evt_mute' });
    expect((await side.events.waitFor('session.input_audio.muted')).client_event_id).toBe('evt_mute');
    side.ws.send({ type: 'response.create', event_id: 'evt_rc' });
    const noBackend = await side.events.waitFor(
      'error',
      (e) => (e.error as { client_event_id?: string }).client_event_id === 'evt_rc',
    );
    expect((noBackend.error as { message: string }).message).toBe('response.create requires Responses delegation.');
    ws.close();
    expect((await side.events.waitFor('session.closed')).reason).toBe('remote_hangup');
  });

  it('lets session.update change the delegation settings only, not the type, voice, instructions or permissions', async () => {
    const { ws, events } = openLive(openai);
    ws.send({ type: 'session.start', session: support });
    const id = ((await events.waitFor('session.started')).session as { id: string }).id;
    const side = await attachSideband(openai, id);
    const update = (session: unknown, event_id: string) =>
      side.ws.send({ type: 'session.update', event_id, session } as never);
    const refusal = (event_id: string) =>
      side.events.waitFor('error', (e) => (e.error as { client_event_id?: string }).client_event_id === event_id);
    update({ delegation: { type: 'client', acknowledgement_delay_ms: 250 } }, 'evt_ok');
    const updated = await side.events.waitFor('session.updated');
    expect(updated).toMatchObject({
      client_event_id: 'evt_ok',
      session: { delegation: { type: 'client', acknowledgement_delay_ms: 250 } },
    });
    update({ delegation: { type: 'responses', responses: { model: 'gpt-5' } } }, 'evt_type');
    expect((await refusal('evt_type')).error).toMatchObject({ param: 'session.delegation.type' });
    for (const [field, value] of [
      ['instructions', 'x'],
      ['audio', { output: { voice: 'ash' } }],
      ['client', { data_channel: {} }],
      ['model', 'gpt-live-1'],
    ] as const) {
      update({ [field]: value }, `evt_${field}`);
      expect((await refusal(`evt_${field}`)).error).toMatchObject({
        code: 'unknown_parameter',
        param: `session.${field}`,
      });
    }
    ws.close();
  });

  it('speaks G.711 μ-law on a primary WebSocket that asked for it, and plays an audio fixture', async () => {
    const { ws, events } = openLive(openai);
    ws.send({ type: 'session.start', session: { ...support, audio: { format: { type: 'audio/pcmu', rate: 8000 } } } });
    const started = await events.waitFor('session.started');
    expect((started.session as { audio: unknown }).audio).toMatchObject({ format: { type: 'audio/pcmu' } });
    const pcm = new Int16Array(24_000).map((_, i) => Math.round(8000 * Math.sin(i / 10)));
    ws.send({
      type: 'session.output_audio.fixture.play',
      event_id: 'evt_fx',
      audio: Buffer.from(pcm.buffer).toString('base64'),
    });
    await events.waitFor('session.output_audio.fixture.playing');
    expect((await events.waitFor('session.output_audio.fixture.played')).client_event_id).toBe('evt_fx');
    // One second of 24 kHz PCM16 in; the deltas out are 8 kHz, one byte a sample.
    const bytes = events.events
      .filter((e) => e.type === 'session.output_audio.delta')
      .reduce((n, e) => n + Buffer.from(String(e.delta), 'base64').length, 0);
    expect(bytes).toBe(8000);
    ws.close();
  });

  it('ends a WebSocket session whose primary connection drops (connection_lost)', async () => {
    const { ws, events } = openLive(openai);
    ws.send({ type: 'session.start', session: support });
    const id = ((await events.waitFor('session.started')).session as { id: string }).id;
    const closed = new Promise<number>((r) => ws.socket.platformSocket.once('close', (code) => r(code)));
    emu.faults.set({ drop: { sessionId: id } });
    expect(await closed).toBe(1011);
    emu.faults.clear();
    const deadline = Date.now() + 5000;
    while (!emu.sessions().find((s) => s.id === id)?.ended && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(emu.sessions().find((s) => s.id === id)).toMatchObject({ ended: true, closeReason: 'connection_lost' });
    await expect(attachSideband(openai, id)).rejects.toThrow('HTTP 404');
  });

  it('refuses a session.start with unknown fields or without a model, and anything sent before it', async () => {
    const { ws, events } = openLive(openai);
    ws.send({ type: 'session.input_audio.mute' });
    await events.waitFor('error', (e) =>
      String((e.error as { message: string }).message).includes('session.start first'),
    );
    ws.send({ type: 'session.start', session: { ...support, tools: [] } as never });
    const unknown = await events.waitFor('error', (e) => (e.error as { code: string }).code === 'unknown_parameter');
    expect(unknown.error).toMatchObject({ param: 'session.tools', message: "Unknown parameter: 'session.tools'." });
    ws.send({ type: 'session.start', session: { instructions: 'x' } as never });
    await events.waitFor('error', (e) => (e.error as { param?: string }).param === 'session.model');
    ws.send({ type: 'session.start', session: { ...support, client: { data_channel: {} } } as never });
    await events.waitFor('error', (e) => (e.error as { param?: string }).param === 'session.client');
    expect(events.types()).not.toContain('session.started');
    ws.close();
  });

  it("works with the SDK's AzureOpenAI client on Azure's v1 path (api-key on REST, bearer on the sockets)", async () => {
    const azure = new AzureOpenAI({ apiKey: KEY, baseURL: `${emu.url}/openai/v1`, apiVersion: 'preview' });
    const { ws, events } = openLive(azure);
    ws.send({ type: 'session.start', session: support });
    const id = ((await events.waitFor('session.started')).session as { id: string }).id;
    const side = await attachSideband(azure, id);
    await azure.live.sessions.hangup(id);
    expect((await side.events.waitFor('session.closed')).reason).toBe('close_requested');
  });

  it('accepts Azure credentials on /openai/v1 and only a bearer on /v1', async () => {
    const azure = new OpenAI({
      apiKey: 'unused',
      baseURL: `${emu.url}/openai/v1`,
      defaultHeaders: { 'api-key': KEY, authorization: null },
    });
    const onAzure = openLive(azure);
    onAzure.ws.send({ type: 'session.start', session: support });
    await onAzure.events.waitFor('session.started');
    onAzure.ws.close();
    const jwt = (aud: string) =>
      ['{"alg":"none"}', JSON.stringify({ aud, exp: Math.floor(Date.now() / 1000) + 600 }), '']
        .map((p) => Buffer.from(p).toString('base64url'))
        .join('.');
    const hangup = (prefix: string, headers: Record<string, string>) =>
      fetch(`${emu.url}${prefix}/live/sessions/live_missing/hangup`, { method: 'POST', headers });
    // An Entra token is a credential on Azure's path (404: authenticated, no such session), not on OpenAI's.
    expect(
      (await hangup('/openai/v1', { authorization: `Bearer ${jwt('https://cognitiveservices.azure.com')}` })).status,
    ).toBe(404);
    expect((await hangup('/openai/v1', { authorization: `Bearer ${jwt('https://graph.microsoft.com')}` })).status).toBe(
      401,
    );
    expect(
      (await hangup('/v1', { authorization: `Bearer ${jwt('https://cognitiveservices.azure.com')}` })).status,
    ).toBe(401);
    // The model goes in session.start, never in the URL.
    await expect(
      RawClient.open(`${emu.url.replace('http', 'ws')}/v1/live/sessions?model=gpt-live-1`, {
        authorization: `Bearer ${KEY}`,
      }),
    ).rejects.toMatchObject({ status: 400 });
    const refused = await fetch(`${emu.url}/v1/live/sessions/live_x/hangup`, {
      method: 'POST',
      headers: { 'api-key': KEY },
    });
    expect(refused.status).toBe(401);
    // The Realtime API stands beside Live on both services.
    const realtime = await fetch(`${emu.url}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ session: { type: 'realtime', model: 'gpt-realtime' } }),
    });
    expect(realtime.status).toBe(200);
    expect(((await realtime.json()) as { value: string }).value).toMatch(/^ek_/);
    const secret = (prefix: string) =>
      fetch(`${emu.url}${prefix}/realtime/client_secrets`, {
        method: 'POST',
        headers: { 'api-key': KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ session: { type: 'realtime' } }),
      });
    expect((await secret('/openai/v1')).status).toBe(200);
    expect((await secret('/v1')).status).toBe(401);
  });
});
