import type { SidebandExtension } from './sideband';

/**
 * Phone manners: on a phone call nobody presses "start", so the agent speaks first. On the call's first attach
 * the worker asks the gate for the agent's greeting (said as written) or, without one, for a short greeting
 * in the agent's words. A takeover worker does not greet again.
 */
export function phoneGreeting(): SidebandExtension {
  return (ctx) => {
    if (ctx.attach.transport !== 'sip' || ctx.attach.attempt !== 0) return;
    const greeting = ctx.prepared.agent.greeting?.replace(/["“”]/g, "'");
    ctx.gate.request({
      kind: 'greeting',
      response: {
        instructions: greeting
          ? `Greet the caller. Say: "${greeting}"`
          : 'Greet the caller in one short sentence and ask how you can help.',
        tool_choice: 'none',
      },
    });
  };
}
