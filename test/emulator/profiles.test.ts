import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';

const KEY = 'profile-key';
let azure: RealtimeEmulator;
let openai: RealtimeEmulator;
beforeAll(async () => {
  [azure, openai] = await Promise.all([
    startRealtimeEmulator({ profile: 'azure-openai', apiKeys: [KEY], useEspeak: false }),
    startRealtimeEmulator({ profile: 'openai', apiKeys: [KEY], useEspeak: false }),
  ]);
});
afterAll(async () => Promise.all([azure?.stop(), openai?.stop()]));

const post = (base: string, path: string, headers: Record<string, string>, body?: unknown) =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
const errorOf = async (res: Response) => ((await res.json()) as { error: Record<string, unknown> }).error;

describe('paths and auth per profile', () => {
  it('openai: /v1 paths and Authorization: Bearer only', async () => {
    expect((await post(openai.url, '/v1/realtime/client_secrets', { authorization: `Bearer ${KEY}` }, {})).status).toBe(
      200,
    );
    const apiKey = await post(openai.url, '/v1/realtime/client_secrets', { 'api-key': KEY }, {});
    expect(apiKey.status).toBe(401);
    expect((await errorOf(apiKey)).code).toBe('missing_api_key');
    expect(
      (await post(openai.url, '/openai/v1/realtime/client_secrets', { authorization: `Bearer ${KEY}` }, {})).status,
    ).toBe(404);
  });

  it('azure-openai: /openai/v1 paths, api-key or a bearer (key or Entra token), never /v1', async () => {
    expect((await post(azure.url, '/openai/v1/realtime/client_secrets', { 'api-key': KEY }, {})).status).toBe(200);
    expect(
      (await post(azure.url, '/openai/v1/realtime/client_secrets', { authorization: `Bearer ${KEY}` }, {})).status,
    ).toBe(200);
    const notEntra = await post(azure.url, '/openai/v1/realtime/client_secrets', { authorization: 'Bearer x.y.z' }, {});
    expect(notEntra.status).toBe(401);
    expect((await post(azure.url, '/v1/realtime/client_secrets', { 'api-key': KEY }, {})).status).toBe(404);
  });
});

describe('request shapes', () => {
  it("client_secrets: unknown fields, a session without type and expires_after out of 10–7200 get the service's errors", async () => {
    const mint = (body: unknown) => post(azure.url, '/openai/v1/realtime/client_secrets', { 'api-key': KEY }, body);
    expect(await errorOf(await mint({ session: { type: 'realtime', voice: 'alloy' } }))).toMatchObject({
      type: 'invalid_request_error',
      code: 'unknown_parameter',
      message: "Unknown parameter: 'session.voice'.",
      param: 'session.voice',
    });
    expect(await errorOf(await mint({ session: { instructions: 'x' } }))).toMatchObject({
      code: 'missing_required_parameter',
      message: "Missing required parameter: 'session.type'.",
    });
    expect((await mint({ expires_after: { anchor: 'created_at', seconds: 9 } })).status).toBe(400);
    expect((await mint({ expires_after: { anchor: 'created_at', seconds: 7201 } })).status).toBe(400);
    expect((await mint({ expires_after: { anchor: 'created_at', seconds: 7200 } })).status).toBe(200);
    expect(
      (await errorOf(await mint({ session: { type: 'realtime', output_modalities: ['text', 'audio'] } }))).param,
    ).toBe('session.output_modalities');
  });

  it('SIP accept: Azure wants type, model and instructions; neither takes turn-detection tuning', async () => {
    const base = { type: 'realtime', model: 'gpt-realtime', instructions: 'Answer the phone.' };
    for (const [emu, prefix, headers] of [
      [azure, '/openai/v1', { 'api-key': KEY }],
      [openai, '/v1', { authorization: `Bearer ${KEY}` }],
    ] as const) {
      const { callId } = await emu.simulateIncomingSipCall({ from: '+15550001', to: '+15550002' });
      const accept = (body: unknown) => post(emu.url, `${prefix}/realtime/calls/${callId}/accept`, headers, body);
      for (const field of ['threshold', 'prefix_padding_ms', 'silence_duration_ms']) {
        const td = { type: 'server_vad', [field]: field === 'threshold' ? 0.6 : 400 };
        const res = await accept({ ...base, audio: { input: { turn_detection: td } } });
        expect(res.status).toBe(400);
        expect(await errorOf(res)).toMatchObject({
          code: 'unknown_parameter',
          message: `Unknown parameter: 'session.audio.input.turn_detection.${field}'.`,
        });
      }
      if (emu === azure) {
        for (const missing of ['model', 'instructions']) {
          const { [missing as 'model']: _dropped, ...rest } = base;
          expect(await errorOf(await accept(rest))).toMatchObject({
            code: 'missing_required_parameter',
            message: `Missing required parameter: '${missing}'.`,
          });
        }
      } else {
        // OpenAI's accept needs only `type`.
        const other = await emu.simulateIncomingSipCall({ from: '+15550003', to: '+15550002' });
        expect(
          (await post(emu.url, `${prefix}/realtime/calls/${other.callId}/accept`, headers, { type: 'realtime' }))
            .status,
        ).toBe(200);
      }
      const td = { type: 'server_vad', create_response: true, interrupt_response: true };
      expect((await accept({ ...base, audio: { input: { turn_detection: td } } })).status).toBe(200);
    }
  });
});
