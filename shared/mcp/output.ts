import type { RealtimeResponseCreateParams } from 'openai/resources/realtime/realtime';

/**
 * Every outcome of a tool call becomes a short string the model can act on. The wording tells the model what
 * to do next (retry, ask the user, give up politely) because it reads this, not a stack trace.
 */

/** Tool output is spoken about, not read out: long payloads only cost tokens and latency. */
export const MAX_OUTPUT_CHARS = 6000;

export const truncate = (text: string, max = MAX_OUTPUT_CHARS) =>
  text.length <= max ? text : `${text.slice(0, max)}\n[output truncated: ${text.length - max} more characters]`;

interface ContentPart {
  type: string;
  text?: string;
  resource?: { uri?: string; text?: string };
  uri?: string;
  name?: string;
}

/** Turns an MCP `tools/call` result into the `function_call_output` text. */
export function renderCallResult(
  tool: string,
  result: { content?: unknown; structuredContent?: unknown; isError?: boolean },
): string {
  const parts = Array.isArray(result.content) ? (result.content as ContentPart[]) : [];
  const texts = parts.map((p) => {
    if (p.type === 'text') return p.text ?? '';
    if (p.type === 'resource') return p.resource?.text ?? `[resource ${p.resource?.uri ?? ''}]`;
    if (p.type === 'resource_link') return `[link ${p.name ?? ''} ${p.uri ?? ''}]`.trim();
    return `[${p.type} content omitted]`;
  });
  let body = texts.join('\n').trim();
  if (!body && result.structuredContent !== undefined) body = JSON.stringify(result.structuredContent);
  if (result.isError) {
    return truncate(
      `The ${tool} tool reported an error: ${body || 'no details given'}. ` +
        'Tell the user what went wrong in plain words; do not invent a result.',
    );
  }
  return truncate(body || `The ${tool} tool completed without returning any data.`);
}

export const messages = {
  notAllowed: (name: string) =>
    `The tool "${name}" is not available to this agent. Do not call it again; tell the user you cannot help with that here.`,
  invalidJson: (tool: string) =>
    `The arguments for ${tool} were not valid JSON. Call ${tool} again with a JSON object matching its parameters.`,
  invalidArgs: (tool: string, problems: string) =>
    `The arguments for ${tool} were invalid (${problems}). Ask the user for the missing or corrected information, then call ${tool} again.`,
  timeout: (tool: string, ms: number) =>
    `The ${tool} lookup timed out after ${Math.max(1, Math.round(ms / 1000))} seconds. ` +
    'Tell the user it is taking too long and ask them to try again in a moment.',
  unavailable: (tool: string) =>
    `The ${tool} service could not be reached right now. ` +
    'Apologise, say the system is temporarily unavailable and offer to try again shortly.',
  cancelled: (tool: string) => `The ${tool} call was cancelled before it finished.`,
  budgetExhausted: (tool: string, limit: number) =>
    `The ${tool} call was not made: this call has used its limit of ${limit} tool calls. Tell the caller you ` +
    'cannot look anything else up in this call and offer to continue on a new call or on the website.',
  failed: (tool: string) =>
    `The ${tool} call failed unexpectedly. Apologise and offer to try again; do not invent a result.`,
} as const;

/**
 * Long tools. A function call arrives with `response.done`, so no response is active while the tool runs: if it
 * has not answered after TOOL_PROGRESS_AFTER_MS, the worker asks its response gate for a response with
 * `toolProgressResponse(name)` and the model says a short "one moment" line. The gate asks for the tool's answer
 * only after that progress response is done (only one response may be active per conversation).
 */
export const TOOL_PROGRESS_AFTER_MS = 1500;

/** The "one moment" line by language, for agents that do not set their own `progressPhrase`. */
const PROGRESS_PHRASES: Record<string, string> = {
  en: 'One moment, I am still looking into that.',
  de: 'Einen Moment bitte, ich sehe noch nach.',
  fr: 'Un instant, je vérifie encore.',
  es: 'Un momento, todavía lo estoy comprobando.',
  it: 'Un attimo, sto ancora controllando.',
  nl: 'Een ogenblik, ik kijk het nog na.',
  pt: 'Um momento, ainda estou a verificar.',
};

/** The agent's own words for "one moment": its `progressPhrase`, else its language's, else English. */
export function progressPhraseOf(agent: { language?: string; progressPhrase?: string }): string {
  const lang = (agent.language ?? 'en').toLowerCase();
  return (
    agent.progressPhrase ?? PROGRESS_PHRASES[lang] ?? PROGRESS_PHRASES[lang.split('-')[0]!] ?? PROGRESS_PHRASES.en!
  );
}

export function toolProgressResponse(
  tool: string,
  agent: { language?: string; progressPhrase?: string } = {},
): RealtimeResponseCreateParams {
  return {
    // Said word for word: the caller hears the agent's phrase in its language, not the model's improvisation.
    instructions:
      `You are waiting for the ${tool} tool to finish. Say: "${progressPhraseOf(agent)}" ` +
      'Say nothing else, do not guess the result and do not call any tool.',
    tool_choice: 'none',
    metadata: { purpose: 'tool_progress', tool: tool.slice(0, 64) },
  };
}
