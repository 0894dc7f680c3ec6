import type { CallOutcome, WorkerReport } from '../shared/worker-client/api';
import type { SidebandContext, SidebandExtension } from './sideband';

export interface CallLimitsOptions {
  workerId: string;
  report(sessionId: string, report: WorkerReport): Promise<void>;
  onLimit?(e: { agentId: string; outcome: CallOutcome }): void;
  /**
   * After the goodbye's response is done its audio still plays to the caller (a phone leg hears it in real
   * time): the hang-up waits this long, or until the service reports the output audio stopped (WebRTC).
   */
  hangupGraceMs?: number;
}

/** What counts as the conversation going on: the caller speaking or pressing keys, the agent answering. */
const ACTIVITY = [
  'input_audio_buffer.speech_started',
  'input_audio_buffer.committed',
  'input_audio_buffer.dtmf_event_received',
  'conversation.item.input_audio_transcription.completed',
  'response.created',
  'response.done',
] as const;

const GOODBYE = {
  max_call_length:
    'The call has reached its time limit. In one or two short sentences, tell the caller the call has to end ' +
    'now, thank them and say goodbye. Do not call any tool.',
  idle_timeout:
    'The caller has not said anything for a while. In one short sentence, say you are ending the call since ' +
    'they seem to be gone, and say goodbye. Do not call any tool.',
} as const satisfies Record<Exclude<CallOutcome, 'transferred'>, string>;

const REPROMPT =
  'The caller has been silent for a while. In one short sentence, ask whether they are still there and ' +
  'whether you can help with anything else. Do not call any tool.';

/**
 * The limits of an agent (`limits`: maxCallSeconds, idleSeconds, idleReprompts), enforced by the worker on
 * every call whatever the model or the page does. At the call's limit, and after the reprompts of an idle
 * caller, the agent says goodbye through the response gate and the call is hung up (the lifecycle ends it).
 * The limits read are the current agent's: a handoff brings its own.
 */
export function callLimits(opts: CallLimitsOptions): SidebandExtension {
  const unit = 1000;
  const grace = opts.hangupGraceMs ?? 2000;
  return (ctx) => {
    let ending = false;
    let reprompts = 0;
    let idleTimer: NodeJS.Timeout | undefined;
    const limits = () => ctx.prepared.agent.limits;

    const end = (outcome: Exclude<CallOutcome, 'transferred'>) => {
      if (ending) return;
      ending = true;
      clearTimeout(idleTimer);
      ctx.log(`session ${ctx.sessionId}: ${outcome.replace(/_/g, ' ')}; saying goodbye`);
      opts.onLimit?.({ agentId: ctx.prepared.agent.id, outcome });
      const said = ctx.gate.request({
        kind: 'goodbye',
        response: { instructions: GOODBYE[outcome], tool_choice: 'none' },
      });
      void said.outcome.then((o) => (o === 'closed' ? undefined : hangUp(ctx, outcome)));
    };
    const hangUp = async (c: SidebandContext, outcome: CallOutcome) => {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, grace);
        const off = c.events.on('output_audio_buffer.stopped', () => (clearTimeout(t), off(), resolve()));
      });
      c.stop(outcome);
      await opts
        .report(c.sessionId, { type: 'ended', workerId: opts.workerId, reason: outcome, outcome })
        .catch((err: unknown) =>
          c.log(`session ${c.sessionId}: reporting the hang-up failed: ${(err as Error).message}`),
        );
    };

    const armIdle = () => {
      clearTimeout(idleTimer);
      if (ending) return;
      idleTimer = setTimeout(onIdle, limits().idleSeconds * unit);
    };
    const onIdle = () => {
      // Something is being said or is about to be: silence is not the caller's yet.
      if (ctx.gate.busy) return armIdle();
      if (reprompts >= limits().idleReprompts) return end('idle_timeout');
      reprompts++;
      ctx.gate.request({ kind: 'reprompt', response: { instructions: REPROMPT, tool_choice: 'none' } });
      armIdle();
    };

    // A takeover worker does not know when the call started: the limit counts from its attach.
    const callTimer = setTimeout(() => end('max_call_length'), limits().maxCallSeconds * unit);
    const offs = ACTIVITY.map((type) =>
      ctx.events.on(type, () => {
        if (type !== 'response.created' && type !== 'response.done') reprompts = 0;
        armIdle();
      }),
    );
    armIdle();
    return () => {
      clearTimeout(callTimer);
      clearTimeout(idleTimer);
      for (const off of offs) off();
    };
  };
}
