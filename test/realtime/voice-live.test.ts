import { describe, expect, it } from 'vitest';
import { parseServerEvent } from '../../shared/realtime/events';
import { gaProtocol, protocolFor } from '../../shared/realtime/protocol';
import { utteranceOf } from '../../shared/realtime/transcript';
import { sessionFromVoiceLive, sessionToVoiceLive, voiceLiveProtocol } from '../../shared/realtime/voice-live';

const gaSession = {
  type: 'realtime' as const,
  instructions: 'You are a concierge.',
  output_modalities: ['audio' as const],
  audio: {
    input: {
      format: { type: 'audio/pcm' as const, rate: 24000 as const },
      transcription: { model: 'whisper-1' },
      turn_detection: { type: 'server_vad' as const, threshold: 0.6, prefix_padding_ms: 300, silence_duration_ms: 500 },
    },
    output: { format: { type: 'audio/pcmu' as const }, voice: 'alloy' },
  },
  tools: [{ type: 'function' as const, name: 'get_order', parameters: { type: 'object' } }],
  tool_choice: 'auto' as const,
  max_output_tokens: 800,
};

describe('event vocabulary', () => {
  it('parses GA events as typed events and anything else as unknown, never throwing', () => {
    expect(parseServerEvent('{"type":"response.done","response":{"id":"r"}}')).toMatchObject({ type: 'response.done' });
    expect(parseServerEvent('{"type":"vendor.thing","x":1}')).toEqual({
      type: 'unknown',
      originalType: 'vendor.thing',
      raw: { type: 'vendor.thing', x: 1 },
    });
    expect(parseServerEvent('{"x":1}')).toMatchObject({ type: 'unknown', originalType: '' });
    for (const bad of ['', 'nope', '[1]', 'null', '3']) expect(parseServerEvent(bad)).toBeUndefined();
  });

  it('the provider picks the protocol: Voice Live its own, everyone else GA', () => {
    expect(protocolFor('voice-live')).toBe(voiceLiveProtocol);
    for (const p of ['openai', 'azure-openai', 'emulator'] as const) expect(protocolFor(p)).toBe(gaProtocol);
  });
});

describe('Voice Live adapter', () => {
  it('maps a GA session onto the flat beta session and back', () => {
    const flat = sessionToVoiceLive(gaSession);
    expect(flat).toEqual({
      instructions: 'You are a concierge.',
      modalities: ['text', 'audio'],
      voice: 'alloy',
      input_audio_format: 'pcm16',
      input_audio_sampling_rate: 24000,
      output_audio_format: 'g711_ulaw',
      turn_detection: { type: 'server_vad', threshold: 0.6, prefix_padding_ms: 300, silence_duration_ms: 500 },
      input_audio_transcription: { model: 'whisper-1' },
      tools: gaSession.tools,
      tool_choice: 'auto',
      max_response_output_tokens: 800,
    });
    expect(sessionFromVoiceLive({ ...flat, voice: { type: 'openai', name: 'alloy' } })).toMatchObject({
      type: 'realtime',
      output_modalities: ['audio'],
      instructions: gaSession.instructions,
      audio: {
        input: { format: { type: 'audio/pcm', rate: 24000 }, turn_detection: gaSession.audio.input.turn_detection },
        output: { format: { type: 'audio/pcmu' }, voice: 'alloy' },
      },
      max_output_tokens: 800,
    });
  });

  it('sends GA client events in the beta shape', () => {
    expect(voiceLiveProtocol.encode({ type: 'session.update', session: gaSession })).toMatchObject({
      type: 'session.update',
      session: { modalities: ['text', 'audio'], voice: 'alloy' },
    });
    expect(
      voiceLiveProtocol.encode({
        type: 'response.create',
        event_id: 'e1',
        response: { output_modalities: ['text'], instructions: 'hi', metadata: { k: 'v' } },
      }),
    ).toEqual({
      type: 'response.create',
      event_id: 'e1',
      response: { modalities: ['text'], instructions: 'hi', metadata: { k: 'v' } },
    });
    expect(
      voiceLiveProtocol.encode({
        type: 'conversation.item.create',
        item: { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'earlier' }] },
      }),
    ).toMatchObject({ item: { content: [{ type: 'text', text: 'earlier' }] } });
    expect(voiceLiveProtocol.encode({ type: 'output_audio_buffer.clear' })).toBeUndefined();
    const output = {
      type: 'conversation.item.create' as const,
      item: { type: 'function_call_output' as const, call_id: 'c', output: '{}' },
    };
    expect(voiceLiveProtocol.encode(output)).toEqual(output);
  });

  it('reads beta server events as GA ones: deltas, transcripts, items, responses', () => {
    const d = (wire: Record<string, unknown>) => voiceLiveProtocol.decode(wire);
    expect(d({ type: 'response.text.delta', delta: 'x' })).toMatchObject({ type: 'response.output_text.delta' });
    expect(d({ type: 'response.audio.delta', delta: 'AA' })).toMatchObject({ type: 'response.output_audio.delta' });
    expect(d({ type: 'response.audio_transcript.done', transcript: 'hi' })).toMatchObject({
      type: 'response.output_audio_transcript.done',
    });
    const said = d({
      type: 'response.output_item.done',
      item: {
        id: 'a1',
        type: 'message',
        role: 'assistant',
        content: [{ type: 'audio', transcript: 'Order 1234 shipped.' }],
      },
    })!;
    expect(utteranceOf(said)).toEqual({ itemId: 'a1', role: 'assistant', text: 'Order 1234 shipped.' });
    const typed = d({
      type: 'conversation.item.created',
      item: { id: 'u1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'where is my order' }] },
    })!;
    expect(typed.type).toBe('conversation.item.added');
    expect(utteranceOf(typed)).toEqual({ itemId: 'u1', role: 'user', text: 'where is my order' });
    expect(
      d({ type: 'response.done', response: { id: 'r', modalities: ['text', 'audio'], voice: 'alloy', output: [] } }),
    ).toMatchObject({ response: { id: 'r', output_modalities: ['audio'], audio: { output: { voice: 'alloy' } } } });
    expect(d({ type: 'session.updated', session: { id: 's', modalities: ['text'], instructions: 'x' } })).toMatchObject(
      {
        session: { type: 'realtime', output_modalities: ['text'], instructions: 'x' },
      },
    );
    expect(d({ type: 'session.avatar.connecting' })).toMatchObject({
      type: 'unknown',
      originalType: 'session.avatar.connecting',
    });
    expect(voiceLiveProtocol.deltas.get('response.audio.delta')).toBe('response.output_audio.delta');
  });
});
