import type { SessionEventPublisher } from '../shared/events/types';
import type { ServerEvent } from '../shared/realtime/events';
import { utteranceOf } from '../shared/realtime/transcript';
import type { TranscriptBatcher } from './transcripts';

export interface SessionTranscriptDeps {
  sessionId: string;
  agentId: string;
  partition: string;
  transcripts: TranscriptBatcher;
  publisher: SessionEventPublisher;
  now(): number;
  log(line: string): void;
  logTranscripts: boolean;
}

/** Items seeded from memory are already in the history; the service echoes them back as conversation items. */
const isSeeded = (id: string) => id.startsWith('mem_');

/**
 * One session's transcript: each completed item once (several events report the same item), queued for the
 * history batch and, except tool outputs, published to the page.
 */
export class SessionTranscript {
  private readonly recorded = new Set<string>();
  /** The agent speaking now (a handoff changes it); each item is stored under the agent that said it. */
  agentId: string;

  constructor(private readonly deps: SessionTranscriptDeps) {
    this.agentId = deps.agentId;
  }

  /** Records what a server event completes, if anything. */
  onServerEvent(ev: ServerEvent): void {
    const u = utteranceOf(ev);
    if (u) this.record(u.itemId, u.role, u.text);
  }

  record(
    itemId: string,
    role: 'user' | 'assistant' | 'tool',
    text: string,
    extra: { callId?: string; toolName?: string } = {},
  ): void {
    if (!itemId || isSeeded(itemId) || this.recorded.has(itemId)) return;
    this.recorded.add(itemId);
    const { sessionId, partition } = this.deps;
    const agentId = this.agentId;
    const at = this.deps.now();
    this.deps.transcripts.add(partition, { itemId, sessionId, agentId, role, text, at, ...extra });
    if (this.deps.logTranscripts) this.deps.log(`[${sessionId}] ${role}: ${text}`);
    if (role !== 'tool') {
      void this.deps.publisher
        .publish({ type: 'transcript', sessionId, itemId, role, text, at })
        .catch((err) => this.deps.log(`publishing a transcript of ${sessionId} failed: ${(err as Error).message}`));
    }
  }
}
