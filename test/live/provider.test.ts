import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { createProvider } from '../../shared/providers/index';
import { liveApiBase } from '../../shared/providers/live/endpoint';
import { PAGE_SERVER_EVENTS } from '../../shared/providers/live/session-config';
import { ProviderConfigError, UnsupportedByProvider, UpstreamError } from '../../shared/providers/index';
import type { SessionConfig } from '../../shared/providers/types';

interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body: unknown;
}

/** A fetch that answers like the Live API and records each request. */
function fakeFetch(answer: (url: string) => { status: number; body?: unknown } = () => ({ status: 200 })) {
  const seen: Seen[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input instanceof Request ? input.url : input);
    const text = typeof init?.body === 'string' ? init.body : undefined;
    seen.push({
      url,
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: text && JSON.parse(text),
    });
    const a = answer(url);
    return new Response(a.body === undefined ? null : JSON.stringify(a.body), {
      status: a.status,
      headers: { 'content-type': 'application/json' },
    });
  };
  return { seen, fetch };
}

const ga: SessionConfig = {
  type: 'realtime',
  model: 'gpt-live-1',
  instructions: 'You help with orders.',
  audio: { output: { voice: 'marin' } },
  tools: [
    { type: 'function', name: 'get_order', description: 'Look up an order', parameters: { type: 'object' } },
    { type: 'mcp', server_label: 'docs', server_url: 'https://mcp.example/mcp' },
  ],
};

const created = { session: { id: 'live_abc' }, transport: { type: 'webrtc', sdp: 'v=0\r\nanswer' } };

describe('live provider', () => {
  it('brokers the SDP on OpenAI with the server key and the agent config fixed at start', async () => {
    const { seen, fetch } = fakeFetch(() => ({ status: 200, body: created }));
    const provider = createProvider(
      {
        REALTIME_PROVIDER: 'live',
        REALTIME_ENDPOINT: 'https://api.openai.com',
        REALTIME_API_KEY: 'sk-test',
        REALTIME_MODEL: 'gpt-live-1',
        REALTIME_API_VERSION: 'x',
        TEXT_MODEL: 'gpt-5-mini',
      },
      { fetch },
    );
    expect(provider.capabilities).toMatchObject({ clientSecrets: false, webrtc: true, sip: true, sideband: true });
    expect(await provider.startWebrtcSession!(ga, 'v=0\r\noffer')).toEqual({
      callId: 'live_abc',
      sdp: 'v=0\r\nanswer',
    });
    const [req] = seen;
    expect(req!.url).toBe('https://api.openai.com/v1/live/sessions');
    expect(req!.headers.get('authorization')).toBe('Bearer sk-test');
    const body = req!.body as { session: Record<string, any>; transport: unknown };
    expect(body.transport).toEqual({ type: 'webrtc', sdp: 'v=0\r\noffer' });
    expect(body.session).toMatchObject({
      model: 'gpt-live-1',
      audio: { output: { voice: 'marin' } },
      delegation: {
        type: 'responses',
        responses: {
          model: 'gpt-5-mini',
          instructions: 'You help with orders.',
          tools: [
            { type: 'function', name: 'get_order', description: 'Look up an order', parameters: { type: 'object' } },
          ],
        },
      },
      client: {
        data_channel: {
          allowed_client_events: [],
          allowed_server_events: PAGE_SERVER_EVENTS.map((type) => ({ type })),
        },
      },
    });
    expect(body.session.instructions).toMatch(/^You help with orders\./);
    // Pass-through MCP tools are not offered on Live; nothing else of the GA session leaks into the Live one.
    expect(body.session.delegation.responses.tools).toHaveLength(1);
    expect(Object.keys(body.session).sort()).toEqual(['audio', 'client', 'delegation', 'instructions', 'model']);
  });

  it('speaks Azure’s /openai/v1/live with api-key, and call control on the session id', async () => {
    const { seen, fetch } = fakeFetch(() => ({ status: 200 }));
    const provider = createProvider(
      {
        REALTIME_PROVIDER: 'live',
        REALTIME_ENDPOINT: 'https://res.openai.azure.com/',
        REALTIME_API_KEY: 'az-key',
        REALTIME_MODEL: 'gpt-live-1',
        REALTIME_API_VERSION: 'x',
      },
      { fetch },
    );
    await provider.acceptCall('live_sip1', ga);
    await provider.rejectCall('live_sip2', 486);
    await provider.rejectCall('live_sip3');
    await provider.referCall('live_sip1', 'tel:+14155550123');
    await provider.hangupCall('live_sip1');
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST https://res.openai.azure.com/openai/v1/live/sessions/live_sip1/accept',
      'POST https://res.openai.azure.com/openai/v1/live/sessions/live_sip2/reject',
      'POST https://res.openai.azure.com/openai/v1/live/sessions/live_sip3/reject',
      'POST https://res.openai.azure.com/openai/v1/live/sessions/live_sip1/refer',
      'POST https://res.openai.azure.com/openai/v1/live/sessions/live_sip1/hangup',
    ]);
    for (const s of seen) {
      expect(s.headers.get('api-key')).toBe('az-key');
      expect(s.headers.get('authorization')).toBeNull();
    }
    const accept = seen[0]!.body as { session: Record<string, unknown> };
    // A phone has no data channel: no client permissions; `type: live` as the accept requires.
    expect(accept.session).toMatchObject({ type: 'live', model: 'gpt-live-1', delegation: { type: 'responses' } });
    expect(accept.session.client).toBeUndefined();
    expect(seen[1]!.body).toEqual({ status_code: 486 });
    expect(seen[2]!.body).toEqual({ status_code: 603 });
    expect(seen[3]!.body).toEqual({ target_uri: 'tel:+14155550123' });
  });

  it('uses an Entra token on Azure without a key', async () => {
    const { seen, fetch } = fakeFetch(() => ({ status: 200 }));
    const credential = { getToken: async () => ({ token: 'entra-tok', expiresOnTimestamp: Date.now() + 3_600_000 }) };
    const provider = createProvider(
      {
        REALTIME_PROVIDER: 'live',
        REALTIME_ENDPOINT: 'https://res.services.ai.azure.com',
        REALTIME_MODEL: 'gpt-live-1',
        REALTIME_API_VERSION: 'x',
      },
      { fetch, credential },
    );
    await provider.hangupCall('live_1');
    expect(seen[0]!.url).toBe('https://res.services.ai.azure.com/openai/v1/live/sessions/live_1/hangup');
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer entra-tok');
  });

  it('attaches the sideband at …/live/sessions/{id}/attach with the same auth', async () => {
    const opened: { url: string; headers: Record<string, string> }[] = [];
    const webSocket = (url: string, headers: Record<string, string>) => {
      opened.push({ url, headers });
      const ws = new EventEmitter();
      setImmediate(() => ws.emit('open'));
      return ws as unknown as WebSocket;
    };
    const provider = createProvider(
      {
        REALTIME_PROVIDER: 'live',
        REALTIME_ENDPOINT: 'http://127.0.0.1:7080/openai',
        REALTIME_API_KEY: 'k',
        REALTIME_MODEL: 'gpt-live-1',
        REALTIME_API_VERSION: 'x',
      },
      { webSocket },
    );
    await provider.openSideband('live_x/../y');
    expect(opened).toEqual([
      { url: 'ws://127.0.0.1:7080/openai/v1/live/sessions/live_x%2F..%2Fy/attach', headers: { 'api-key': 'k' } },
    ]);
  });

  it('refuses what Live does not have, and maps upstream errors', async () => {
    const { fetch } = fakeFetch(() => ({
      status: 429,
      body: { error: { message: 'slow down', code: 'rate_limited' } },
    }));
    const provider = createProvider(
      {
        REALTIME_PROVIDER: 'live',
        REALTIME_ENDPOINT: 'https://api.openai.com/v1',
        REALTIME_API_KEY: 'sk',
        REALTIME_MODEL: 'gpt-live-1',
        REALTIME_API_VERSION: 'x',
      },
      { fetch },
    );
    await expect(provider.mintClientSecret(ga, 60)).rejects.toBeInstanceOf(UnsupportedByProvider);
    expect(() => provider.connectUrls('gpt-live-1')).toThrow(UnsupportedByProvider);
    const err = await provider.startWebrtcSession!(ga, 'v=0\r\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UpstreamError);
    expect((err as UpstreamError).status).toBe(429);
    expect(() =>
      createProvider({
        REALTIME_PROVIDER: 'live',
        REALTIME_ENDPOINT: 'https://api.openai.com',
        REALTIME_MODEL: 'm',
        REALTIME_API_VERSION: 'x',
      }),
    ).toThrow(ProviderConfigError);
  });

  it('tells Azure endpoints from OpenAI ones', () => {
    expect(liveApiBase('https://r.openai.azure.com')).toEqual({
      base: 'https://r.openai.azure.com/openai/v1',
      azure: true,
    });
    expect(liveApiBase('https://r.cognitiveservices.azure.com/openai/v1')).toEqual({
      base: 'https://r.cognitiveservices.azure.com/openai/v1',
      azure: true,
    });
    expect(liveApiBase('http://127.0.0.1:9/openai')).toEqual({ base: 'http://127.0.0.1:9/openai/v1', azure: true });
    expect(liveApiBase('https://api.openai.com/v1/')).toEqual({ base: 'https://api.openai.com/v1', azure: false });
    expect(liveApiBase('http://127.0.0.1:9')).toEqual({ base: 'http://127.0.0.1:9/v1', azure: false });
  });
});
