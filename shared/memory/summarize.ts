import type { StorageConfig } from '../storage/tables';
import { createSessionStore, type SessionRow, type SessionStore } from '../stores/sessions';
import type { MemoryStore, RollingSummary, TranscriptItem } from './types';
import { SummaryConflictError } from './types';
import { createHistoryStore, RECENT_SESSION_IDS } from './history-store';
import { createTextModel, type TextModel, type TextModelConfig } from './text-model';

/**
 * After a session ends (the lifecycle's emit effect calls `summarizeSession`: a Durable activity in Azure,
 * in the background locally): the configured text model summarizes the transcript into the session row,
 * then folds that summary into the rolling per-(caller, agent) summary that seeds later sessions. Safe to
 * retry: a session already folded (with the same items) is not folded again.
 */

/** Summary prompts start with this; the emulator's text model recognises them by it. */
export const MEMORY_PROMPT_MARKER = 'You maintain the long-term memory';

export const SESSION_SUMMARY_PROMPT = `${MEMORY_PROMPT_MARKER} of a voice assistant about one user.
Summarize the conversation transcript below into durable facts about the user that will help in a later
conversation: name, where they live, preferences, open problems, orders or tickets, promises made.
Skip small talk. Write at most 12 lines, each "- Key: value". If there is nothing lasting, write
"- No lasting facts."`;

export const MERGE_SUMMARY_PROMPT = `${MEMORY_PROMPT_MARKER} of a voice assistant about one user.
Merge the existing memory with the summary of the newest conversation. Newer facts replace older ones
about the same thing; keep everything else. Write at most 20 lines, each "- Key: value".`;

/** The transcript sent for summarizing keeps its most recent part within this many characters. */
export const MAX_TRANSCRIPT_CHARS = 48_000;

export function formatTranscript(items: TranscriptItem[]): string {
  const lines = items
    .filter((i) => i.text.trim() !== '')
    .map((i) =>
      i.role === 'tool'
        ? `Tool ${i.toolName ?? ''}: ${i.text}`
        : `${i.role === 'user' ? 'User' : 'Assistant'}: ${i.text}`,
    );
  let text = lines.join('\n');
  if (text.length > MAX_TRANSCRIPT_CHARS) text = text.slice(text.length - MAX_TRANSCRIPT_CHARS);
  return text;
}

export interface SummarizeDeps {
  config: TextModelConfig;
  history: MemoryStore;
  sessions: Pick<SessionStore, 'get' | 'update'>;
  /** Defaults to chat completions on the configured provider (createTextModel). */
  textModel?: TextModel;
  now?: () => number;
}

export type SummarizeResult =
  | { status: 'summarized'; summary: string; rolling: string; items: number }
  | { status: 'already_folded'; summary: string }
  | { status: 'empty' | 'no_session' };

const MAX_FOLD_ATTEMPTS = 4;

/** Row fields written together with the summary, in the same merge (the end of the session). */
export type SessionEndPatch = Partial<
  Pick<SessionRow, 'state' | 'endedAt' | 'endReason' | 'inputTokens' | 'outputTokens'>
>;

export async function summarizeSession(
  deps: SummarizeDeps,
  sessionId: string,
  end: SessionEndPatch = {},
): Promise<SummarizeResult> {
  const now = deps.now ?? Date.now;
  const session = await deps.sessions.get(sessionId);
  if (!session) return { status: 'no_session' };
  const writeEnd = () => (Object.keys(end).length ? deps.sessions.update(sessionId, end) : Promise.resolve());
  const partition = session.historyPartition;
  const model = deps.textModel ?? createTextModel(deps.config);

  // Read even when the summary exists (a retry): history deleted meanwhile must not be folded back in.
  const items = await deps.history.forSession(partition, sessionId);
  const transcript = formatTranscript(items);
  if (!transcript) {
    await writeEnd();
    return { status: 'empty' };
  }
  // A resumed session that ended again has more items than its summary covered: summarize it anew.
  let summary = session.summary;
  if (!summary || (session.transcriptItems ?? 0) < items.length) {
    summary = await model.complete(
      [
        { role: 'system', content: SESSION_SUMMARY_PROMPT },
        { role: 'user', content: transcript },
      ],
      { maxTokens: 400 },
    );
    await deps.sessions.update(sessionId, { ...end, summary, transcriptItems: items.length });
  } else {
    await writeEnd();
  }
  const itemCount = items.length;
  // Fold identity includes the item count: a retry is skipped, a resumed session's new part is folded.
  const foldKey = `${sessionId}#${itemCount}`;

  // Optimistic concurrency: two sessions of one caller ending together must not lose either fold.
  for (let attempt = 1; ; attempt++) {
    const prev = await deps.history.getSummary(partition, session.agentId);
    if (prev?.recentSessionIds?.includes(foldKey)) {
      return { status: 'already_folded', summary };
    }
    const rolling = prev
      ? await model.complete(
          [
            { role: 'system', content: MERGE_SUMMARY_PROMPT },
            { role: 'user', content: `Existing memory:\n${prev.text}\n\nNewest conversation:\n${summary}` },
          ],
          { maxTokens: 600 },
        )
      : summary;
    const next: RollingSummary = {
      agentId: session.agentId,
      text: rolling,
      updatedAt: now(),
      sessions: (prev?.sessions ?? 0) + 1,
      lastSessionId: sessionId,
      recentSessionIds: [...(prev?.recentSessionIds ?? []), foldKey].slice(-RECENT_SESSION_IDS),
    };
    try {
      await deps.history.putSummary(partition, next, { etag: prev?.etag ?? null });
      return { status: 'summarized', summary, rolling, items: itemCount };
    } catch (err) {
      if (!(err instanceof SummaryConflictError) || attempt >= MAX_FOLD_ATTEMPTS) throw err;
    }
  }
}

/**
 * The post-session step as one function of a session id, built once from configuration: what the Durable
 * activity (Azure) or the local lifecycle calls after `ended`, once the worker has flushed the transcript.
 */
export function createSessionSummarizer(
  config: TextModelConfig & StorageConfig,
  opts: { history?: MemoryStore; sessions?: Pick<SessionStore, 'get' | 'update'>; textModel?: TextModel } = {},
): (sessionId: string, end?: SessionEndPatch) => Promise<SummarizeResult> {
  const deps: SummarizeDeps = {
    config,
    history: opts.history ?? createHistoryStore(config),
    sessions: opts.sessions ?? createSessionStore(config),
    textModel: opts.textModel ?? createTextModel(config),
  };
  return (sessionId, end) => summarizeSession(deps, sessionId, end);
}
