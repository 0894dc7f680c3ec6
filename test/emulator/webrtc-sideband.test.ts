import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';
import { espeak } from '../../emulators/realtime/tts';
import { RawClient, wsUrl } from './helpers';
import { TestPeer } from './webrtc-peer';

const KEY = 'server-key';
let emu: RealtimeEmulator;

beforeAll(async () => {
  emu = await startRealtimeEmulator({ apiKeys: [KEY] });
  await emu.ready();
});
afterAll(async () => {
  await emu?.stop();
});

const session = {
  type: 'realtime',
  instructions: 'You are a customer support agent.',
  tools: [
    {
      type: 'function',
      name: 'get_order',
      parameters: { type: 'object', properties: { orderId: { type: 'string' } } },
    },
  ],
  audio: { input: { transcription: { model: 'gpt-4o-mini-transcribe' } } },
};

describe('WebRTC call with a sideband connection', () => {
  it('carries spoken audio from a werift peer to the session the sideband sees', async () => {
    const minted = await fetch(`${emu.url}/openai/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ session }),
    });
    const { value } = (await minted.json()) as { value: string };

    const peer = new TestPeer();
    const res = await peer.connect(`${emu.url}/openai/v1/realtime/calls`, value);
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toMatch(/^\/v1\/realtime\/calls\/rtc_/);
    expect(res.headers.get('content-type')).toBe('application/sdp');

    const side = await RawClient.open(wsUrl(emu.url, `call_id=${peer.callId}`), { 'api-key': KEY });
    const created = await side.waitFor('session.created');
    expect(created.session).toMatchObject({ instructions: 'You are a customer support agent.' });

    const speech = await espeak('where is my order 1234');
    const silence = new Int16Array(24_000); // 1 s: longer than silence_duration_ms
    await peer.speak(new Int16Array([...new Int16Array(4800), ...speech, ...silence]));

    const started = await side.waitFor('input_audio_buffer.speech_started');
    const stopped = await side.waitFor('input_audio_buffer.speech_stopped');
    expect(stopped.audio_end_ms).toBeGreaterThan(started.audio_start_ms);
    expect(stopped.item_id).toBe(started.item_id);
    const transcript = await side.waitFor('conversation.item.input_audio_transcription.completed');
    expect(transcript.item_id).toBe(started.item_id);
    expect(transcript.transcript).toBe('where is my order 1234');
    // The spoken request leads to a tool call the sideband (the server) answers.
    const call = await side.waitFor('response.function_call_arguments.done', undefined, { timeoutMs: 15_000 });
    expect(call.name).toBe('get_order');
    expect(JSON.parse(call.arguments)).toEqual({ orderId: '1234' });
    const first = await side.waitFor('response.done');
    expect(first.response.status).toBe('completed');
    const mark = side.events.length;
    side.send({
      type: 'conversation.item.create',
      item: {
        type: 'function_call_output',
        call_id: call.call_id,
        output: JSON.stringify({ status: 'out for delivery' }),
      },
    });
    side.send({ type: 'response.create' });
    const said = await side.waitFor('response.output_audio_transcript.done', undefined, { from: mark });
    expect(said.transcript).toBe('Order 1234 is out for delivery.');
    const done = await side.waitFor('response.done', undefined, { from: mark });
    expect(done.response.status).toBe('completed');

    // The browser's data channel saw the same session.
    await expect
      .poll(() => peer.events.some((e) => e.type === 'response.done' && e.response.id === done.response.id), {
        timeout: 5000,
      })
      .toBe(true);

    // The answer is spoken to the peer as Opus RTP; the data channel only marks playback.
    await side.waitFor('output_audio_buffer.started', (e) => e.response_id === done.response.id);
    await expect.poll(() => peer.rtpReceived, { timeout: 5000 }).toBeGreaterThan(5);
    expect(peer.events.some((e) => e.type === 'response.output_audio.delta')).toBe(false);

    const hang = await fetch(`${emu.url}/openai/v1/realtime/calls/${peer.callId}/hangup`, {
      method: 'POST',
      headers: { 'api-key': KEY },
    });
    expect(hang.status).toBe(200);
    await expect.poll(() => side.closed?.code, { timeout: 5000 }).toBe(1000);
    await peer.close();
  });

  it('keeps the session off the data channel under webrtcfilter=on (Azure): only the documented events pass', async () => {
    const minted = await fetch(`${emu.url}/openai/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { 'api-key': KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ session }),
    });
    const { value } = (await minted.json()) as { value: string };
    const peer = new TestPeer();
    expect((await peer.connect(`${emu.url}/openai/v1/realtime/calls?webrtcfilter=on`, value)).status).toBe(201);
    const side = await RawClient.open(wsUrl(emu.url, `call_id=${peer.callId}`), { 'api-key': KEY });
    await side.waitFor('session.created');
    side.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is my order 1234' }] },
    });
    side.send({ type: 'response.create' });
    const call = await side.waitFor('response.function_call_arguments.done');
    side.send({
      type: 'conversation.item.create',
      item: { type: 'function_call_output', call_id: call.call_id, output: '{"status":"shipped"}' },
    });
    side.send({ type: 'response.create' });
    await side.waitFor('response.output_audio_transcript.done', (e) => e.transcript.includes('shipped'));
    await expect
      .poll(() => peer.events.some((e) => e.type === 'response.output_audio_transcript.done'), { timeout: 5000 })
      .toBe(true);
    const allowed = [
      'input_audio_buffer.speech_started',
      'input_audio_buffer.speech_stopped',
      'output_audio_buffer.started',
      'output_audio_buffer.stopped',
      'conversation.item.input_audio_transcription.completed',
      'conversation.item.added',
      'conversation.item.created',
      'response.output_text.delta',
      'response.output_text.done',
      'response.output_audio_transcript.delta',
      'response.output_audio_transcript.done',
    ];
    expect(peer.events.map((e) => e.type).filter((t) => !allowed.includes(t))).toEqual([]);
    const wire = JSON.stringify(peer.events);
    expect(wire).not.toContain('You are a customer support agent.');
    expect(wire).not.toContain('"parameters"');
    // The sideband (the server) still sees everything.
    expect(side.types()).toEqual(expect.arrayContaining(['session.created', 'response.done']));
    await peer.close();
  });

  it('refuses a multipart offer on Azure (raw SDP only)', async () => {
    const peer = new TestPeer();
    const res = await peer.connect(`${emu.url}/openai/v1/realtime/calls`, KEY, { session: { type: 'realtime' } });
    expect(res.status).toBe(400);
    await peer.close();
  });
});

describe('WebRTC on the openai profile', () => {
  let oai: RealtimeEmulator;
  beforeAll(async () => {
    oai = await startRealtimeEmulator({ profile: 'openai', apiKeys: [KEY] });
    await oai.ready();
  });
  afterAll(async () => {
    await oai?.stop();
  });

  it('opens a call with an ek_ key sent as a bearer, and hangs it up', async () => {
    const minted = await fetch(`${oai.url}/v1/realtime/client_secrets`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ session: { type: 'realtime', instructions: 'OpenAI profile call' } }),
    });
    const { value } = (await minted.json()) as { value: string };
    const peer = new TestPeer();
    expect((await peer.connect(`${oai.url}/v1/realtime/calls`, value)).status).toBe(201);
    await expect.poll(() => peer.events.find((e) => e.type === 'session.created'), { timeout: 5000 }).toBeTruthy();
    const hang = await fetch(`${oai.url}/v1/realtime/calls/${peer.callId}/hangup`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(hang.status).toBe(200);
    expect(oai.calls().find((c) => c.id === peer.callId)?.state).toBe('ended');
    await peer.close();
  });

  it('accepts a multipart offer with a server key, and ends the call when the page closes its peer connection', async () => {
    const emu = oai;
    const peer = new TestPeer();
    const res = await peer.connect(`${emu.url}/v1/realtime/calls`, KEY, {
      session: { type: 'realtime', instructions: 'Multipart instructions', output_modalities: ['text'] },
    });
    expect(res.status).toBe(201);
    await expect.poll(() => peer.events.find((e) => e.type === 'session.created'), { timeout: 5000 }).toBeTruthy();
    const created = peer.events.find((e) => e.type === 'session.created');
    expect(created?.type === 'session.created' && created.session).toMatchObject({
      instructions: 'Multipart instructions',
    });
    // The channel may update the session and drive responses.
    peer.send({ type: 'session.update', session: { type: 'realtime', instructions: 'Changed by the page' } });
    peer.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'goodbye' }] },
    });
    peer.send({ type: 'response.create' });
    await expect
      .poll(() => peer.events.find((e) => e.type === 'response.output_text.done'), { timeout: 5000 })
      .toMatchObject({ text: 'Goodbye, have a great day!' });
    const side = await RawClient.open(wsUrl(emu.url, `call_id=${peer.callId}`, 'openai'), {
      authorization: `Bearer ${KEY}`,
    });
    expect((await side.waitFor('session.created')).session).toMatchObject({ instructions: 'Changed by the page' });
    peer.dc.close();
    await peer.close();
    // werift notices the closed channel late on a loaded machine; the service's own limit is ICE consent (~30 s).
    await expect.poll(() => side.closed?.code, { timeout: 35_000 }).toBe(1000);
    expect(emu.calls().find((c) => c.id === peer.callId)?.state).toBe('ended');
  }, 60_000);
});
