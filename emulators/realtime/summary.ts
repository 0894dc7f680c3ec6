import type { ConversationItem } from 'openai/resources/realtime/realtime';
import type { Calls, CallState } from './calls';
import type { RealtimeSession } from './session';

export interface SessionSummary {
  id: string;
  kind: 'direct' | 'webrtc' | 'sip';
  callId?: string;
  callState?: CallState;
  model: string;
  instructions: string;
  tools: string[];
  connections: number;
  eventsSent: number;
  ended: boolean;
  transcript: { role: string; type: string; text: string }[];
}

export interface CallSummary {
  id: string;
  kind: 'webrtc' | 'sip';
  state: CallState;
  sipHeaders: { name: string; value: string }[];
  endedReason?: string;
  referredTo?: string;
  rejectStatus?: number;
  webhooks: { webhookId: string; delivered: boolean; attempts: { status?: number; error?: string }[] }[];
  sessionId?: string;
}

/** One conversation item as a line of transcript (what `/_emulator/sessions` shows). */
export function transcriptLine(it: ConversationItem): { role: string; type: string; text: string } {
  return {
    role: it.type === 'message' ? it.role : 'tool',
    type: it.type,
    text:
      it.type === 'message'
        ? it.content
            .map(
              (c) =>
                ('text' in c && c.text) ||
                ('transcript' in c && c.transcript) ||
                (c.type === 'input_image' ? '[image]' : ''),
            )
            .join(' ')
        : it.type === 'function_call'
          ? `${it.name}(${it.arguments})`
          : it.type === 'function_call_output'
            ? it.output
            : '',
  };
}

export function sessionSummaries(sessions: RealtimeSession[], calls: Calls): SessionSummary[] {
  return sessions.map((s) => ({
    id: s.id,
    kind: s.kind,
    callId: s.callId,
    callState: s.callId ? calls.get(s.callId)?.state : undefined,
    model: String(s.config.model ?? ''),
    instructions: s.config.instructions ?? '',
    tools: (s.config.tools ?? []).map((t) => ('name' in t ? (t.name ?? '') : '')).filter(Boolean),
    connections: s.sinks.size,
    eventsSent: s.eventsSent,
    ended: s.ended,
    transcript: s.items.map(transcriptLine),
  }));
}

/** One call as `/_emulator/calls` shows it, from either API's call record. */
export function callSummary(c: {
  id: string;
  kind: CallSummary['kind'];
  state: CallState;
  sipHeaders: CallSummary['sipHeaders'];
  endedReason?: string;
  referredTo?: string;
  rejectStatus?: number;
  deliveries: { webhookId: string; delivered: boolean; attempts: { status?: number; error?: string }[] }[];
  session?: { id: string };
}): CallSummary {
  return {
    id: c.id,
    kind: c.kind,
    state: c.state,
    sipHeaders: c.sipHeaders,
    endedReason: c.endedReason,
    referredTo: c.referredTo,
    rejectStatus: c.rejectStatus,
    webhooks: c.deliveries.map((d) => ({
      webhookId: d.webhookId,
      delivered: d.delivered,
      attempts: d.attempts.map(({ status, error }) => ({ status, error })),
    })),
    sessionId: c.session?.id,
  };
}

export function callSummaries(calls: Calls): CallSummary[] {
  return [...calls.byId.values()].map(callSummary);
}
