import type {
  DataChannelConfig,
  FunctionTool,
  MediaSessionConfig,
  ServerEventSelector,
} from 'openai/resources/live/live';
import type { SessionAcceptParams } from 'openai/resources/live/sessions';
import type { SessionConfig } from '../types';

/**
 * What the page's data channel may carry on a Live session. Sending: nothing — every Live client event either
 * changes the session (delegation, triggers, instructions, context, decisions, responses, close) or its media
 * (mute, fixtures), and the page needs none of them: it speaks over its audio track. Receiving: the transcript
 * deltas it shows, and `error` / `info` (the service's word on a refused event and on these permissions). Never
 * `session.started` / `session.updated` / `session.closed` (they carry the instructions and the delegation's tool
 * schemas), `session.delegation.created` or any `response.event` (tool names, arguments and results).
 */
export const PAGE_CLIENT_EVENTS: string[] = [];
export const PAGE_SERVER_EVENTS: readonly string[] = [
  'session.input_transcript.delta',
  'session.output_transcript.delta',
  'error',
  'info',
];

export const pageDataChannel = (): DataChannelConfig => ({
  allowed_client_events: [...PAGE_CLIENT_EVENTS],
  allowed_server_events: PAGE_SERVER_EVENTS.map((type): ServerEventSelector => ({ type })),
});

/** Said to the Live model so it hands tool work to the backend instead of answering from memory. */
const DELEGATE_LINE =
  'When the caller needs something your tools can do (looking up, creating or changing records), delegate the task ' +
  'and tell the caller the result once it comes back.';

export interface LiveSessionOptions {
  /** The Responses model that runs delegated tasks with the agent's function tools (TEXT_MODEL). */
  delegationModel: string;
}

type LiveStartup = Omit<MediaSessionConfig, 'client'>;

/**
 * The Live startup config for a GA session built from an agent (shared/agents/session-config.ts): the same
 * instructions (with the session reference) and voice, fixed for the session's life; the agent's function tools
 * become the Responses delegation's tools, which the worker executes (they arrive as function calls inside
 * `response.event` on the sideband and are answered with `response.item.create` + `response.create`). Realtime-only
 * settings (turn detection, transcription model, formats) have no Live counterpart: Live does its own turn-taking
 * and transcribes both sides. Pass-through `mcp` tools are not offered on Live.
 */
export function liveStartupConfig(ga: SessionConfig, opts: LiveSessionOptions): LiveStartup {
  const tools: FunctionTool[] = (ga.tools ?? []).flatMap((t) =>
    t.type === 'function' && t.name
      ? [
          {
            type: 'function',
            name: t.name,
            description: t.description ?? null,
            parameters: (t.parameters ?? null) as FunctionTool['parameters'],
          },
        ]
      : [],
  );
  const voice = ga.audio?.output?.voice;
  const instructions = ga.instructions ?? '';
  return {
    model: ga.model ?? 'gpt-live-1',
    instructions: tools.length ? `${instructions}\n\n${DELEGATE_LINE}` : instructions,
    ...(voice ? { audio: { output: { voice: typeof voice === 'string' ? voice : voice.id } } } : {}),
    delegation: tools.length
      ? { type: 'responses', responses: { model: opts.delegationModel, instructions, tools } }
      : { type: 'client' },
  };
}

/** For a browser session: the startup config plus the page's data channel permissions. */
export function liveWebrtcConfig(ga: SessionConfig, opts: LiveSessionOptions): MediaSessionConfig {
  return { ...liveStartupConfig(ga, opts), client: { data_channel: pageDataChannel() } };
}

/** For a SIP call: no data channel (a phone has none), `type: live` as the accept requires. */
export function liveAcceptConfig(ga: SessionConfig, opts: LiveSessionOptions): SessionAcceptParams.Session {
  return { ...liveStartupConfig(ga, opts), type: 'live' };
}
