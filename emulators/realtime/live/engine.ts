import type { RealtimeSessionCreateRequest } from 'openai/resources/realtime/realtime';
import type { SessionResource } from 'openai/resources/live/live';
import type { EmulatorContext } from '../context';
import { applicableScenarios } from '../scenarios';
import { RealtimeSession, type SessionKind } from '../session';
import type { LiveTransport } from './config';

/**
 * The emulator's voice model under a Live session: the Realtime engine (VAD, recognition, the scripted model,
 * speech, the WebRTC media leg) with its input gated by the Live mute and reflected to sideband observers.
 */
export class LiveEngine extends RealtimeSession {
  muted = false;
  onInputAudio?: (pcm: Int16Array) => void;

  override appendAudio(pcm: Int16Array): void {
    this.onInputAudio?.(pcm);
    // A muted Live session feeds the model silence of the same length (its timeline keeps running).
    super.appendAudio(this.muted ? new Int16Array(pcm.length) : pcm);
  }
}

type Json = Record<string, unknown>;

/**
 * The engine configuration a Live session runs on. Turn taking is the model's (server VAD, no commits);
 * input transcription is always on (Live always reports input transcript deltas); tools are what the model
 * may delegate: under client delegation every tool the applicable scenarios know (the Live model decides
 * to delegate; the application decides what to run), under Responses delegation the configured functions.
 */
export function engineConfig(
  ctx: EmulatorContext,
  resource: SessionResource,
  transport: LiveTransport,
): Partial<RealtimeSessionCreateRequest> {
  const voice = resource.audio?.output?.voice;
  const instructions = resource.instructions ?? '';
  const format = (resource.audio as Json | undefined)?.format as { type?: string; rate?: number } | undefined;
  const inputFormat =
    transport === 'websocket' && format?.type && format.type !== 'audio/pcm'
      ? { type: format.type as 'audio/pcmu' | 'audio/pcma' }
      : { type: 'audio/pcm' as const, rate: 24000 as const };
  return {
    type: 'realtime',
    model: resource.model,
    instructions,
    output_modalities: ['audio'],
    audio: {
      input: {
        format: inputFormat,
        transcription: { model: 'whisper-1' },
        turn_detection: { type: 'server_vad', create_response: true, interrupt_response: true },
      },
      output: { voice: typeof voice === 'string' ? voice : 'marin' },
    },
    tools: delegationTools(ctx, resource).map((name) => ({ type: 'function' as const, name, parameters: {} })),
  };
}

export function delegationTools(ctx: EmulatorContext, resource: SessionResource): string[] {
  const d = resource.delegation as Json | null | undefined;
  if (d?.type === 'responses') {
    const tools = ((d.responses as Json | undefined)?.tools ?? []) as Json[];
    return tools.filter((t) => t.type === 'function' && typeof t.name === 'string').map((t) => t.name as string);
  }
  if (d?.type === 'decisions') return [];
  const scenarios = applicableScenarios(ctx.scenarios, { tools: [], instructions: resource.instructions ?? '' });
  return [...new Set(scenarios.flatMap((s) => s.rules.flatMap((r) => (r.tool ? [r.tool] : []))))];
}

export function engineKind(transport: LiveTransport): SessionKind {
  return transport === 'webrtc' ? 'webrtc' : transport === 'sip' ? 'sip' : 'direct';
}
