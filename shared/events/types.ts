import type { LifecycleState, Transport } from '../lifecycle/operations';
import type { PageRealtimeEvent } from '../realtime/page-relay';

/** Events the backend pushes to the page (through Web PubSub), one group per session. */
export type SessionEvent =
  | {
      type: 'state';
      sessionId: string;
      state: LifecycleState;
      at: number;
      reason?: string;
      /** Carried so observers (metrics) need no session-row read per event. */
      agentId?: string;
      transport?: Transport;
    }
  | { type: 'tool.started'; sessionId: string; callId: string; name: string; arguments: string; at: number }
  | {
      type: 'tool.finished';
      sessionId: string;
      callId: string;
      name: string;
      /** Which fields came back (never their values): what the page shows. */
      summary: string;
      /** Raw output, only with DEBUG_TOOL_OUTPUT_TO_PAGE (personal data: never in Azure). */
      output?: string;
      isError: boolean;
      durationMs: number;
      at: number;
    }
  /** A handoff: another agent speaks from now on. */
  | { type: 'agent'; sessionId: string; agentId: string; displayName: string; from: string; at: number }
  | { type: 'transcript'; sessionId: string; itemId: string; role: 'user' | 'assistant'; text: string; at: number }
  /** The call's running cost (usd null: the model has no price), after each response the service bills. */
  | {
      type: 'cost';
      sessionId: string;
      usd: number | null;
      currency: 'USD';
      inputTokens: number;
      outputTokens: number;
      /** The cost has passed COST_ALERT_USD. */
      alert: boolean;
      at: number;
    }
  /** A service event the page's filtered data channel leaves out, reduced to what the page shows. */
  | { type: 'realtime'; sessionId: string; event: PageRealtimeEvent; at: number };

export interface SessionEventPublisher {
  publish(event: SessionEvent): Promise<void>;
}

/** Used when Web PubSub is not configured: events are dropped, nothing fails. */
export const noopPublisher: SessionEventPublisher = { publish: async () => {} };
