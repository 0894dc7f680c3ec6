import { describe, expect, it } from 'vitest';
import type { SessionResource } from 'openai/resources/live/live';
import { applyUpdate, resourceOf, startupProblem, updateProblem } from '../../emulators/realtime/live/config';
import { parseLiveClientEvent, serverEventAllowed } from '../../emulators/realtime/live/events';

const model = 'gpt-live-1';

describe('Live startup configuration checks', () => {
  it('takes each transport’s own fields and refuses the rest by name', () => {
    expect(startupProblem({ model }, 'webrtc')).toBeUndefined();
    expect(
      startupProblem({ model, audio: { format: { type: 'audio/pcm', rate: 16000 } } }, 'websocket'),
    ).toBeUndefined();
    expect(startupProblem({ model, audio: { format: { type: 'audio/pcm', rate: 8000 } } }, 'websocket')?.param).toBe(
      'session.audio.format',
    );
    expect(startupProblem({ model, audio: { output: { voice: 'marin', speed: 1 } } }, 'webrtc')?.param).toBe(
      'session.audio.output.speed',
    );
    expect(startupProblem({ model, audio: { output: { voice: { id: 'voice_1' } } } }, 'webrtc')).toBeUndefined();
    expect(startupProblem({ model, client: { data_channel: {} } }, 'sip')?.param).toBe('session.client');
    expect(startupProblem({ model }, 'sip')).toMatchObject({
      code: 'missing_required_parameter',
      param: 'session.type',
    });
    expect(startupProblem({ type: 'live', model }, 'sip')).toBeUndefined();
    expect(startupProblem(undefined, 'webrtc')?.code).toBe('missing_required_parameter');
  });

  it('checks the delegation and the data channel grant', () => {
    const responses = (r: unknown) => ({ model, delegation: { type: 'responses', responses: r } });
    expect(startupProblem(responses({ model: 'gpt-5', tools: [] }), 'webrtc')).toBeUndefined();
    expect(startupProblem(responses({ tools: [] }), 'webrtc')?.param).toBe('session.delegation.responses.model');
    expect(startupProblem(responses({ model: 'gpt-5', temperature: 1 }), 'webrtc')?.param).toBe(
      'session.delegation.responses.temperature',
    );
    expect(startupProblem({ model, delegation: { type: 'agent' } }, 'webrtc')?.param).toBe('session.delegation.type');
    expect(
      startupProblem({ model, delegation: { type: 'client', acknowledgement_delay_ms: -1 } }, 'webrtc')?.param,
    ).toBe('session.delegation.acknowledgement_delay_ms');
    const dc = (d: unknown) => ({ model, client: { data_channel: d } });
    expect(startupProblem(dc({ allowed_client_events: 'all', allowed_server_events: [] }), 'webrtc')).toBeUndefined();
    expect(startupProblem(dc({ allowed_server_events: [{ type: 'response.event' }] }), 'webrtc')?.param).toBe(
      'session.client.data_channel.allowed_server_events[0].response_event',
    );
    expect(
      startupProblem(dc({ allowed_server_events: [{ type: 'error', response_event: 'x' }] }), 'webrtc')?.code,
    ).toBe('unknown_parameter');
    expect(startupProblem(dc({ allowed_client_events: 'none' }), 'webrtc')?.code).toBe('invalid_value');
  });

  it('fills defaults into the session resource and merges delegation updates', () => {
    const r = resourceOf('live_1', { model }, 'webrtc', 100) as SessionResource;
    expect(r).toMatchObject({ id: 'live_1', expires_at: 100, status: 'active', audio: { output: { voice: 'marin' } } });
    expect(r.delegation).toEqual({ type: 'client' });
    expect(r.audio).not.toHaveProperty('format');
    expect(updateProblem({ triggers: [] }, r)).toBeUndefined();
    expect(updateProblem({ delegation: null }, r)).toBeUndefined();
    const withResponses = resourceOf(
      'live_2',
      { model, delegation: { type: 'responses', responses: { model: 'a' } } },
      'websocket',
      1,
    );
    expect(
      updateProblem({ delegation: { type: 'responses', responses: { instructions: 'x' } } }, withResponses),
    ).toBeUndefined();
    const merged = applyUpdate(withResponses, { delegation: { type: 'responses', responses: { instructions: 'x' } } });
    expect(merged.delegation).toMatchObject({ type: 'responses', responses: { model: 'a', instructions: 'x' } });
  });
});

describe('Live event sets and server event selectors', () => {
  it('parses by role: a data channel never starts a session or appends audio; a primary may', () => {
    const start = JSON.stringify({ type: 'session.start', session: { model } });
    expect(parseLiveClientEvent(start, 'primary').ok).toBe(true);
    expect(parseLiveClientEvent(start, 'datachannel').ok).toBe(false);
    expect(parseLiveClientEvent(JSON.stringify({ type: 'transport.dtmf.send', event: '1' }), 'sideband').ok).toBe(true);
    expect(parseLiveClientEvent(JSON.stringify({ type: 'transport.dtmf.send', event: '1' }), 'primary').ok).toBe(false);
    const bad = parseLiveClientEvent('{', 'sideband');
    expect(bad.ok ? undefined : bad.error.error.code).toBe('invalid_json');
  });

  it('matches response.event by its nested type', () => {
    const only = [{ type: 'response.event', response_event: 'response.output_text.delta' }, { type: 'info' }];
    expect(serverEventAllowed(only, { type: 'response.event', event: { type: 'response.output_text.delta' } })).toBe(
      true,
    );
    expect(serverEventAllowed(only, { type: 'response.event', event: { type: 'response.output_item.done' } })).toBe(
      false,
    );
    expect(serverEventAllowed(only, { type: 'info' })).toBe(true);
    expect(serverEventAllowed(only, { type: 'session.started' })).toBe(false);
    expect(serverEventAllowed(undefined, { type: 'session.started' })).toBe(true);
  });
});
