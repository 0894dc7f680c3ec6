import { z } from 'zod';
import { MCP_SECRET_SETTING } from '../config/index';

/**
 * An agent definition (agents/*.json, seeded into Table Storage). Everything that shapes the realtime session
 * lives here, server-side: the browser can pick an agent, never change its instructions, voice or tools.
 */
export const mcpAuthSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }),
  /** Entra token for `scope`, from the app's managed identity. */
  z.object({ type: z.literal('managedIdentity'), scope: z.string().min(1) }),
  /** A header whose value comes from a named `MCP_SECRET_*` setting (never inline, never another app setting). */
  z.object({
    type: z.literal('header'),
    header: z.string().min(1),
    setting: z.string().regex(MCP_SECRET_SETTING, 'an MCP_SECRET_* setting'),
  }),
]);

export const mcpServerRefSchema = z.object({
  /** Short name; prefixes tool names when two servers expose the same tool. */
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'lowercase letters, digits, _ or -, at most 32'),
  /** `builtin` means the Function app's own MCP endpoint (MCP_BUILTIN_URL); otherwise an absolute URL. */
  url: z.union([z.literal('builtin'), z.string().url()]),
  auth: mcpAuthSchema.default({ type: 'none' }),
  /** Only these tools are offered to the model or ever called. */
  allowedTools: z.array(z.string().min(1)).min(1),
  /**
   * Send this (external) server a signed token naming the session's caller, signed with the key in the named
   * `MCP_SECRET_*` setting. The built-in server always gets one; external servers only when this is set.
   */
  callerIdentity: z.object({ setting: z.string().regex(MCP_SECRET_SETTING, 'an MCP_SECRET_* setting') }).optional(),
  /** Pass through as a Realtime native `type: "mcp"` tool (the model calls the server directly). */
  public: z.boolean().default(false),
  /**
   * Tools that can run again without harm (read-only or idempotent) even where the server's annotations do not
   * say so. Such calls skip the exactly-once bookkeeping; every other tool is claimed in storage before it runs.
   */
  retrySafeTools: z.array(z.string().min(1)).default([]),
});

export const turnDetectionSchema = z.union([
  z.object({
    type: z.literal('server_vad'),
    threshold: z.number().min(0).max(1).optional(),
    prefix_padding_ms: z.number().int().min(0).optional(),
    silence_duration_ms: z.number().int().min(0).optional(),
    create_response: z.boolean().optional(),
    interrupt_response: z.boolean().optional(),
  }),
  z.object({
    type: z.literal('semantic_vad'),
    eagerness: z.enum(['low', 'medium', 'high', 'auto']).optional(),
    create_response: z.boolean().optional(),
    interrupt_response: z.boolean().optional(),
  }),
  z.null(),
]);

const agentIdSchema = z.string().regex(/^[a-z][a-z0-9-]{1,47}$/, 'lowercase letters, digits and -, 2 to 48');

export const transferTargetSchema = z.object({
  /** What the model says and picks ("billing desk"); the URI stays server-side. */
  name: z.string().regex(/^[a-z][a-z0-9_-]{0,31}$/, 'lowercase letters, digits, _ or -, at most 32'),
  sipUri: z.string().regex(/^(sip:[^\s@]+@[^\s@]+|tel:\+?[0-9]{3,20})$/, 'a sip: or tel: URI'),
  description: z.string().max(200).default(''),
});

/** What the backend enforces on every call of the agent, whatever the model or the page does. */
export const limitsSchema = z.object({
  /** Longest call; a spoken goodbye, then the call is hung up. */
  maxCallSeconds: z.number().int().min(5).max(3600).default(1800),
  /** Silence (no speech, no keypad, nothing said) before a reprompt. */
  idleSeconds: z.number().int().min(2).max(600).default(30),
  /** Reprompts before an idle call is hung up with a goodbye. */
  idleReprompts: z.number().int().min(0).max(5).default(1),
});

export const agentSchema = z.object({
  id: agentIdSchema,
  displayName: z.string().min(1).max(80),
  description: z.string().max(500).default(''),
  instructions: z.string().min(1).max(16_000),
  voice: z.enum(['alloy', 'ash', 'ballad', 'coral', 'echo', 'sage', 'shimmer', 'verse', 'marin', 'cedar']),
  /** Model or deployment; the provider's default (REALTIME_MODEL) when unset. */
  model: z.string().min(1).optional(),
  outputModalities: z
    .array(z.enum(['audio', 'text']))
    .min(1)
    .max(1)
    .default(['audio']),
  turnDetection: turnDetectionSchema.default({ type: 'server_vad' }),
  /** Input transcription model, so the user's side appears in the transcript. */
  transcriptionModel: z.string().min(1).default('whisper-1'),
  greeting: z.string().max(500).optional(),
  mcpServers: z.array(mcpServerRefSchema).default([]),
  sip: z
    .object({
      numbers: z.array(z.string().regex(/^\+?[0-9]{3,20}$/, 'E.164 number')).default([]),
      /**
       * Which API answers this agent's numbers. A ringing call can be offered on both (`realtime.call.incoming` and
       * `live.transport.incoming`) and the first accept decides, so exactly one surface may answer: the other
       * webhook is acknowledged and left alone. Unset: the surface of REALTIME_PROVIDER (`live` for the Live
       * provider, `realtime` for every other).
       */
      surface: z.enum(['realtime', 'live']).optional(),
    })
    .default({ numbers: [] }),
  /** Rubric file (evals/rubrics/*.md) used by the LLM-as-judge. */
  rubric: z.string().optional(),
  /** Agents this one may pass the caller to with the built-in `handoff` tool (their ids). */
  handoffs: z.array(agentIdSchema).max(16).default([]),
  /** People a phone call may be passed to with the built-in `transfer_call` tool; the model only ever names one. */
  transferTargets: z.array(transferTargetSchema).max(16).default([]),
  /** BCP 47 language the agent speaks: the default of its phrases below. */
  language: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a BCP 47 language tag')
    .default('en'),
  /** What it says while a slow tool runs; from `language` when unset. */
  progressPhrase: z.string().min(1).max(200).optional(),
  limits: limitsSchema.prefault({}),
});

export type AgentDefinition = z.infer<typeof agentSchema>;
export type McpServerRef = z.infer<typeof mcpServerRefSchema>;
export type TransferTarget = z.infer<typeof transferTargetSchema>;
export type AgentLimits = z.infer<typeof limitsSchema>;
