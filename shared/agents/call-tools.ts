import type { RealtimeFunctionTool } from 'openai/resources/realtime/realtime';
import type { Transport } from '../lifecycle/operations';
import type { AgentDefinition } from './schema';

/**
 * The tools the backend itself answers (not an MCP server): passing the caller to another agent and, on the
 * phone, to a person. Their names are reserved: an MCP tool of the same name is never offered beside them.
 */
export const HANDOFF_TOOL = 'handoff';
export const TRANSFER_TOOL = 'transfer_call';
export const CALL_TOOL_NAMES: readonly string[] = [HANDOFF_TOOL, TRANSFER_TOOL];

/** The call-control tools this agent gets on this transport; none when it lists no handoffs or targets. */
export function callControlTools(agent: AgentDefinition, transport: Transport): RealtimeFunctionTool[] {
  const tools: RealtimeFunctionTool[] = [];
  if (agent.handoffs.length) {
    tools.push({
      type: 'function',
      name: HANDOFF_TOOL,
      description:
        'Pass the caller to another agent when they need something that agent handles. Tell the caller first, ' +
        'in one short sentence, that you are passing them on.',
      parameters: {
        type: 'object',
        properties: {
          agent: { type: 'string', enum: [...agent.handoffs], description: 'The agent to pass the caller to.' },
          reason: { type: 'string', description: 'One sentence for the next agent: what the caller wants.' },
        },
        required: ['agent'],
        additionalProperties: false,
      },
    });
  }
  // A browser call has no SIP leg to refer.
  if (transport === 'sip' && agent.transferTargets.length) {
    tools.push({
      type: 'function',
      name: TRANSFER_TOOL,
      description:
        'Transfer the phone call to a person. Only when the caller asks for a person or you cannot help; say ' +
        'whom you are transferring them to first. Targets: ' +
        agent.transferTargets.map((t) => (t.description ? `${t.name} (${t.description})` : t.name)).join('; '),
      parameters: {
        type: 'object',
        properties: { target: { type: 'string', enum: agent.transferTargets.map((t) => t.name) } },
        required: ['target'],
        additionalProperties: false,
      },
    });
  }
  return tools;
}

/** What the new agent reads after a handoff (the tool output): who it is now and why the caller came. */
export const handoffOutput = (from: AgentDefinition, to: AgentDefinition, reason?: string) =>
  JSON.stringify({
    handedOffTo: to.id,
    note:
      `The caller was passed to you, ${to.displayName}, by ${from.displayName}` +
      (reason ? ` because: ${reason}` : '') +
      '. Introduce yourself in one short sentence and help them.',
  });

/** The output of a transfer the backend is about to make: the model says one line before the call leaves. */
export const transferOutput = (target: string) =>
  JSON.stringify({
    transferringTo: target,
    note: 'Tell the caller in one short sentence that you are transferring them now.',
  });

/** A keypad entry as the caller's message to the model (the service reports keys; the model hears none). */
export const keypadNote = (entry: string) => `(The caller pressed these keys on the phone keypad: ${entry})`;
