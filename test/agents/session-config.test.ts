import { describe, expect, it } from 'vitest';
import { agentSchema } from '../../shared/agents/schema';
import { buildSessionConfig } from '../../shared/agents/session-config';

const base = { id: 'demo', displayName: 'Demo', instructions: 'Be brief.', voice: 'marin' };
const tool = {
  type: 'function' as const,
  name: 'get_order',
  description: 'Look up an order',
  parameters: { type: 'object', properties: {} },
};

describe('buildSessionConfig', () => {
  it('builds a GA realtime session from an agent with defaults', () => {
    const cfg = buildSessionConfig(agentSchema.parse(base), [tool], { model: 'gpt-realtime' });
    expect(cfg).toEqual({
      type: 'realtime',
      model: 'gpt-realtime',
      instructions: 'Be brief.',
      output_modalities: ['audio'],
      audio: {
        input: {
          format: { type: 'audio/pcm', rate: 24000 },
          transcription: { model: 'whisper-1' },
          turn_detection: { type: 'server_vad' },
        },
        output: { voice: 'marin', format: { type: 'audio/pcm', rate: 24000 } },
      },
      tools: [tool],
      tool_choice: 'auto',
    });
  });

  it("prefers the agent's model, modalities, turn detection and transcription model", () => {
    const agent = agentSchema.parse({
      ...base,
      model: 'my-deployment',
      outputModalities: ['text'],
      turnDetection: { type: 'semantic_vad', eagerness: 'low' },
      transcriptionModel: 'gpt-4o-mini-transcribe',
    });
    const cfg = buildSessionConfig(agent, [], { model: 'gpt-realtime' });
    expect(cfg.model).toBe('my-deployment');
    expect(cfg.output_modalities).toEqual(['text']);
    expect(cfg.audio?.input?.turn_detection).toEqual({ type: 'semantic_vad', eagerness: 'low' });
    expect(cfg.audio?.input?.transcription?.model).toBe('gpt-4o-mini-transcribe');
    expect(cfg.tools).toEqual([]);
  });

  it('keeps turn detection off when the agent sets it to null, and does not share objects with the agent', () => {
    const agent = agentSchema.parse({ ...base, turnDetection: null });
    const tools = [tool];
    const cfg = buildSessionConfig(agent, tools, { model: 'm' });
    expect(cfg.audio?.input?.turn_detection).toBeNull();
    (cfg.output_modalities as string[]).push('text');
    (cfg.tools![0] as { name: string }).name = 'changed';
    expect(agent.outputModalities).toEqual(['audio']);
    expect(tools[0]!.name).toBe('get_order');
  });
});
