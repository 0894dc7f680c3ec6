import type { TranscriptItem } from '../memory/types';
import { CRITERIA } from './schema';

/**
 * Marks the judge's system prompt; the emulator's text model recognises it and answers with its
 * deterministic judge (emulators/realtime/text-model.ts).
 */
export const JUDGE_PROMPT_MARKER = 'You are an impartial evaluator (LLM-as-judge) of a voice assistant conversation';

/** The transcript part of the prompt keeps its most recent part within this many characters. */
export const MAX_JUDGE_TRANSCRIPT_CHARS = 60_000;

export function judgeSystemPrompt(rubric: string): string {
  return `${JUDGE_PROMPT_MARKER}.
Read the transcript the user message contains. Lines start with "User:", "Assistant:" or "Tool <name>:"
(a tool result the assistant received). Judge only the assistant, using this rubric:

${rubric.trim()}

Answer with one JSON object and nothing else, in exactly this shape:
{"scores": {${CRITERIA.map((c) => `"${c}": {"score": 1-5, "reason": "one sentence"}`).join(', ')}}, "summary": "one or two sentences"}
Scores are integers from 1 to 5. Quote no private data in reasons.`;
}

/** One line per item, as the judge rubric describes. */
export function formatForJudge(items: readonly TranscriptItem[]): string {
  const lines = items
    .filter((i) => i.text.trim() !== '')
    .map((i) => {
      const text = i.text.replace(/\s+/g, ' ').trim();
      if (i.role === 'tool') return `Tool ${i.toolName ?? 'unknown'}: ${text}`;
      return `${i.role === 'user' ? 'User' : 'Assistant'}: ${text}`;
    });
  let text = lines.join('\n');
  if (text.length > MAX_JUDGE_TRANSCRIPT_CHARS) text = text.slice(text.length - MAX_JUDGE_TRANSCRIPT_CHARS);
  return text;
}
