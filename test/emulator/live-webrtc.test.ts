import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { espeak } from '../../emulators/realtime/tts';
import { attachSideband, livePeer, type LiveEvent } from './live-helpers';

const KEY = 'server-key';
let emu: RealtimeEmulator;
let openai: OpenAI;
let azure: OpenAI;

beforeAll(async () => {
  emu = await startRealtimeEmulator({ profile: 'live', apiKeys: [KEY] });
  await emu.ready();
  openai = new OpenAI({ apiKey: KEY, baseURL: `${emu.url}/v1` });
  azure = new OpenAI({ apiKey: KEY, baseURL: `${emu.url}/openai/v1` });
});
afterAll(async () => {
  await emu?.stop();
});

const base = {
  model: 'gpt-live-1',
  instructions: 'You are a customer support agent.',
  audio: { output: { voice: 'cedar' } },
};

describe('Live WebRTC sessions brokered by a backend (client.live.create)', () => {
  it('answers the offer, starts the session on the data channel, and runs a spoken turn the sideband answers', async () => {
    const { peer, events, sessionId } = await livePeer(azure, { ...base, delegation: { type: 'client' } });
    expect(sessionId).toMatch(/^live_/);
    const started = await events.waitFor('session.started');
    expect((started.session as { id: string }).id).toBe(sessionId);
    const side = await attachSideband(azure, sessionId);

    const speech = await espeak('where is my order 1234');
    await peer.speak(new Int16Array([...new Int16Array(4800), ...speech, ...new Int16Array(24_000)]));
    expect(await events.until('session.input_transcript.delta', '1234')).toBe('where is my order 1234');
    const delegated = await side.events.waitFor('session.delegation.created');
    side.ws.send({
      type: 'session.commentary.append',
      delegation_id: (delegated.delegation as { id: string }).id,
      content: 'Your order 1234 left the warehouse this morning.',
    });
    // Plain-text commentary is spoken as given; the audio goes on the track, not the channel.
    await events.until('session.output_transcript.delta', 'left the warehouse this morning.');
    expect(events.types()).not.toContain('session.output_audio.delta');
    const deadline = Date.now() + 10_000;
    while (peer.rtpReceived === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(peer.rtpReceived).toBeGreaterThan(0);

    // The backend ends the call; everyone hears why.
    await azure.live.sessions.hangup(sessionId);
    expect((await side.events.waitFor('session.closed')).reason).toBe('close_requested');
    expect((await events.waitFor('session.closed')).usage).toEqual({ seconds: expect.any(Number) });
    await peer.close();
  }, 60_000);

  it('enforces the data channel permissions fixed at start; the sideband is not restricted', async () => {
    const { peer, events, sessionId } = await livePeer(openai, {
      ...base,
      client: {
        data_channel: {
          allowed_client_events: ['session.input_audio.mute'],
          allowed_server_events: [
            { type: 'session.started' },
            { type: 'session.input_audio.muted' },
            { type: 'session.output_transcript.delta' },
            { type: 'error' },
            { type: 'info' },
          ],
        },
      },
    });
    await events.waitFor('session.started');
    const info = await events.waitFor('info');
    expect(info.code).toBe('data_channel_permissions');
    const side = await attachSideband(openai, sessionId);

    // Tried and refused: the page cannot change the session nor speak for the backend.
    peer.send({ type: 'session.update', event_id: 'evt_widen', session: { delegation: { type: 'client' } } });
    peer.send({
      type: 'session.commentary.append',
      event_id: 'evt_say',
      delegation_id: null,
      content: 'Refund approved.',
    });
    const refused = await events.waitFor(
      'error',
      (e) => (e.error as { client_event_id?: string }).client_event_id === 'evt_widen',
    );
    expect(refused.error).toMatchObject({ code: 'event_not_allowed', param: 'type' });
    await events.waitFor('error', (e) => (e.error as { client_event_id?: string }).client_event_id === 'evt_say');
    peer.send({ type: 'session.input_audio.mute', event_id: 'evt_mute' });
    await events.waitFor('session.input_audio.muted');
    // The session knows nothing of the refused commands.
    expect(side.events.types()).not.toContain('session.updated');
    expect(side.events.types()).not.toContain('session.commentary.appended');

    // The sideband may do what the page may not, and sees events the page never receives.
    side.ws.send({ type: 'session.commentary.append', delegation_id: null, content: 'Hello from the backend.' });
    await side.events.waitFor('session.commentary.appended');
    await events.until('session.output_transcript.delta', 'Hello from the backend.');
    expect(events.types()).not.toContain('session.commentary.appended');
    expect(events.types()).not.toContain('session.usage.updated');
    await peer.close();
  }, 60_000);

  it('keeps tool names, arguments and results off a page that may only receive transcripts', async () => {
    const page = ['session.input_transcript.delta', 'session.output_transcript.delta', 'error', 'info'];
    const { peer, events, sessionId } = await livePeer(openai, {
      ...base,
      delegation: {
        type: 'responses',
        responses: {
          model: 'gpt-5',
          tools: [{ type: 'function', name: 'support__get_order', parameters: { type: 'object' } }],
        },
      },
      client: {
        data_channel: { allowed_client_events: [], allowed_server_events: page.map((type) => ({ type })) },
      },
    });
    const side = await attachSideband(openai, sessionId);
    const speech = await espeak('where is my order 1234');
    await peer.speak(new Int16Array([...new Int16Array(4800), ...speech, ...new Int16Array(24_000)]));
    const nested = (e: LiveEvent) => e.event as { type: string; call_id?: string; item?: { call_id: string } };
    const added = await side.events.waitFor('response.event', (e) => nested(e).type === 'response.output_item.added');
    side.ws.send({
      type: 'response.item.create',
      item: { type: 'function_call_output', call_id: nested(added).item!.call_id, output: '{"status":"packed"}' },
    });
    side.ws.send({ type: 'response.create' });
    await events.until('session.output_transcript.delta', 'Order 1234 is packed.');
    // The sideband heard the speech the page got on its track, reflected with timestamps.
    await side.events.waitFor('session.output_audio.delta', (e) => typeof e.start_ms === 'number');

    // Tried: every command is refused, so the page can neither change the session nor close it.
    peer.send({ type: 'session.close', event_id: 'evt_close' });
    peer.send({ type: 'response.create', event_id: 'evt_rc' });
    for (const id of ['evt_close', 'evt_rc'])
      await events.waitFor('error', (e) => (e.error as { client_event_id?: string }).client_event_id === id);
    expect([...new Set(events.types())].every((t) => page.includes(t))).toBe(true);
    const seen = JSON.stringify(events.events);
    for (const secret of ['support__get_order', 'packed"', 'call_', 'response.event', 'gpt-5'])
      expect(seen).not.toContain(secret);
    expect(side.events.types()).not.toContain('session.closed');
    await openai.live.sessions.hangup(sessionId);
    await side.events.waitFor('session.closed');
    await peer.close();
  }, 60_000);

  it('refuses a WebRTC create with audio.format, an unknown field, or a bad transport', async () => {
    const post = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }) =>
      fetch(`${emu.url}/v1/live/sessions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const format = await post({
      session: { ...base, audio: { format: { type: 'audio/pcm', rate: 24000 } } },
      transport: { type: 'webrtc', sdp: 'v=0' },
    });
    expect(format.status).toBe(400);
    expect(((await format.json()) as { error: { param: string } }).error.param).toBe('session.audio.format');
    const extra = await post({ session: { ...base, voice: 'marin' }, transport: { type: 'webrtc', sdp: 'v=0' } });
    expect(((await extra.json()) as { error: { code: string } }).error.code).toBe('unknown_parameter');
    const noSdp = await post({ session: base, transport: { type: 'webrtc' } });
    expect(((await noSdp.json()) as { error: { param: string } }).error.param).toBe('transport.sdp');
    const badOffer = await post({ session: base, transport: { type: 'webrtc', sdp: 'not sdp' } });
    expect(badOffer.status).toBe(400);
    const apiKeyOnOpenAi = await post({ session: base, transport: { type: 'webrtc', sdp: 'v=0' } }, { 'api-key': KEY });
    expect(apiKeyOnOpenAi.status).toBe(401);
  });
});
