import type { RealtimeFunctionTool, RealtimeToolsConfigUnion } from 'openai/resources/realtime/realtime';
import { withSessionReference } from '../calls/binding';
import type { SessionConfig } from '../providers/types';
import type { Transport } from '../lifecycle/operations';
import { CALL_TOOL_NAMES, callControlTools } from './call-tools';
import type { AgentDefinition } from './schema';

export interface SessionConfigOptions {
  /** Model or deployment used when the agent does not name one (REALTIME_MODEL). */
  model: string;
  /** Our session this config is for: its reference goes into the instructions (shared/calls/binding.ts). */
  sessionId?: string;
  /** Which call-control tools apply (transfer needs a phone leg); a browser call when unset. */
  transport?: Transport;
}

/** 24 kHz 16-bit mono PCM: the only PCM rate the GA Realtime API accepts, in both directions. */
const PCM24K = { type: 'audio/pcm', rate: 24000 } as const;

/**
 * The GA `session` object for an agent. Pure: everything comes from the (server-side) agent definition and
 * the tools the gateway resolved, so a browser holding the minted token cannot widen it.
 */
export function buildSessionConfig(
  agent: AgentDefinition,
  tools: (RealtimeFunctionTool | RealtimeToolsConfigUnion)[],
  opts: SessionConfigOptions,
): SessionConfig {
  return {
    type: 'realtime',
    model: agent.model ?? opts.model,
    instructions: opts.sessionId ? withSessionReference(agent.instructions, opts.sessionId) : agent.instructions,
    output_modalities: [...agent.outputModalities],
    audio: {
      input: {
        format: { ...PCM24K },
        transcription: { model: agent.transcriptionModel },
        // null turns server-side turn detection off (push-to-talk clients commit the buffer themselves).
        turn_detection: agent.turnDetection === null ? null : { ...agent.turnDetection },
      },
      output: { voice: agent.voice, format: { ...PCM24K } },
    },
    tools: [
      ...tools.filter((t) => t.type !== 'function' || !CALL_TOOL_NAMES.includes(t.name ?? '')).map((t) => ({ ...t })),
      ...callControlTools(agent, opts.transport ?? 'webrtc'),
    ] as SessionConfig['tools'],
    tool_choice: 'auto',
  };
}
