import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { RealtimeClientEvent, RealtimeErrorEvent, RealtimeServerEvent } from 'openai/resources/realtime/realtime';

/** Ids look like the service's: a short prefix and random base62-ish characters. */
export function newId(prefix: string, length = 22): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = randomBytes(length);
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[bytes[i]! % alphabet.length];
  return `${prefix}_${s}`;
}

export type ServerEvent = RealtimeServerEvent;
/** A server event before the session stamps its `event_id`. */
export type ServerEventDraft = DistributiveOmit<RealtimeServerEvent, 'event_id'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The GA `error` event: `error.event_id` names the client event that caused it. */
export function errorEvent(
  code: string,
  message: string,
  opts: { param?: string | null; clientEventId?: string | null; type?: string } = {},
): RealtimeErrorEvent {
  return {
    type: 'error',
    event_id: newId('event'),
    error: {
      type: opts.type ?? 'invalid_request_error',
      code,
      message,
      param: opts.param ?? null,
      event_id: opts.clientEventId ?? null,
    },
  };
}

const contentPart = z.looseObject({
  type: z.enum([
    'input_text',
    'input_audio',
    'input_image',
    'output_text',
    'output_audio',
    'text',
    'audio',
    'item_reference',
  ]),
  text: z.string().optional(),
  audio: z.string().optional(),
  transcript: z.string().nullable().optional(),
  image_url: z.string().optional(),
});

const item = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('message'),
    id: z.string().max(64).optional(),
    role: z.enum(['user', 'assistant', 'system']),
    content: z.array(contentPart),
    status: z.string().optional(),
  }),
  z.looseObject({
    type: z.literal('function_call'),
    id: z.string().max(64).optional(),
    name: z.string().min(1),
    arguments: z.string(),
    call_id: z.string().optional(),
  }),
  z.looseObject({
    type: z.literal('function_call_output'),
    id: z.string().max(64).optional(),
    call_id: z.string().min(1),
    output: z.string(),
  }),
]);

const eventId = z.string().max(256).optional();

const modalities = z
  .array(z.enum(['text', 'audio']))
  .min(1)
  .max(2);
const tools = z
  .array(z.looseObject({ type: z.enum(['function', 'mcp']).optional(), name: z.string().min(1).max(128).optional() }))
  .max(128);
const toolChoice = z.union([z.enum(['auto', 'none', 'required']), z.looseObject({ type: z.string() })]);
const maxTokens = z.union([z.number().int().min(1).max(4096), z.literal('inf')]);
const format = z.looseObject({
  type: z.enum(['audio/pcm', 'audio/pcmu', 'audio/pcma']).optional(),
  rate: z.literal(24000).optional(),
});
const turnDetection = z.union([
  z.null(),
  z.looseObject({
    type: z.enum(['server_vad', 'semantic_vad']),
    threshold: z.number().min(0).max(1).optional(),
    prefix_padding_ms: z.number().int().min(0).max(10_000).optional(),
    silence_duration_ms: z.number().int().min(0).max(10_000).optional(),
    idle_timeout_ms: z.number().int().min(5000).max(30_000).nullable().optional(),
    create_response: z.boolean().optional(),
    interrupt_response: z.boolean().optional(),
    eagerness: z.enum(['low', 'medium', 'high', 'auto']).optional(),
  }),
]);

/** The GA session config, checked where the service checks it (type of each known field; unknown ones pass). */
export const sessionSchema = z.looseObject({
  type: z.enum(['realtime', 'transcription']).optional(),
  model: z.string().min(1).max(128).optional(),
  instructions: z.string().max(256_000).optional(),
  output_modalities: modalities.optional(),
  tools: tools.optional(),
  tool_choice: toolChoice.optional(),
  max_output_tokens: maxTokens.optional(),
  audio: z
    .looseObject({
      input: z
        .looseObject({
          format: format.optional(),
          turn_detection: turnDetection.optional(),
          transcription: z
            .union([
              z.null(),
              z.looseObject({
                model: z.string().optional(),
                language: z.string().optional(),
                prompt: z.string().optional(),
              }),
            ])
            .optional(),
          noise_reduction: z
            .union([z.null(), z.looseObject({ type: z.enum(['near_field', 'far_field']).optional() })])
            .optional(),
        })
        .optional(),
      output: z
        .looseObject({
          format: format.optional(),
          voice: z.union([z.string().min(1).max(64), z.looseObject({ id: z.string() })]).optional(),
          speed: z.number().min(0.25).max(1.5).optional(),
        })
        .optional(),
    })
    .optional(),
});
const session = sessionSchema;

const responseParams = z.looseObject({
  conversation: z.string().optional(),
  instructions: z.string().max(256_000).optional(),
  output_modalities: modalities.optional(),
  tools: tools.optional(),
  tool_choice: toolChoice.optional(),
  max_output_tokens: maxTokens.optional(),
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  input: z.array(item).optional(),
  audio: z
    .looseObject({
      output: z.looseObject({ voice: z.union([z.string(), z.looseObject({ id: z.string() })]).optional() }).optional(),
    })
    .optional(),
});

/** Validation of client events: enough to answer malformed input the way the service does, not a full schema. */
export const clientEventSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('session.update'), event_id: eventId, session }),
  z.looseObject({ type: z.literal('input_audio_buffer.append'), event_id: eventId, audio: z.string() }),
  z.looseObject({ type: z.literal('input_audio_buffer.commit'), event_id: eventId }),
  z.looseObject({ type: z.literal('input_audio_buffer.clear'), event_id: eventId }),
  z.looseObject({ type: z.literal('output_audio_buffer.clear'), event_id: eventId }),
  z.looseObject({
    type: z.literal('conversation.item.create'),
    event_id: eventId,
    previous_item_id: z.string().nullable().optional(),
    item,
  }),
  z.looseObject({ type: z.literal('conversation.item.retrieve'), event_id: eventId, item_id: z.string() }),
  z.looseObject({ type: z.literal('conversation.item.delete'), event_id: eventId, item_id: z.string() }),
  z.looseObject({
    type: z.literal('conversation.item.truncate'),
    event_id: eventId,
    item_id: z.string(),
    content_index: z.number().int().min(0),
    audio_end_ms: z.number().int().min(0),
  }),
  z.looseObject({ type: z.literal('response.create'), event_id: eventId, response: responseParams.optional() }),
  z.looseObject({ type: z.literal('response.cancel'), event_id: eventId, response_id: z.string().optional() }),
]);

export const CLIENT_EVENT_TYPES = clientEventSchema.options.map((o) => o.shape.type.value);

export type ParsedClientEvent = { ok: true; event: RealtimeClientEvent } | { ok: false; error: RealtimeErrorEvent };

/** Parses one client message; every failure maps to the error event the service would send. */
export function parseClientEvent(raw: string): ParsedClientEvent {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { ok: false, error: errorEvent('invalid_json', 'The server could not parse the client event as JSON.') };
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    return { ok: false, error: errorEvent('invalid_value', 'A client event must be a JSON object.') };
  }
  const obj = json as Record<string, unknown>;
  const clientEventId = typeof obj.event_id === 'string' ? obj.event_id : null;
  if (typeof obj.type !== 'string') {
    return {
      ok: false,
      error: errorEvent('missing_required_parameter', "Missing required parameter: 'type'.", {
        param: 'type',
        clientEventId,
      }),
    };
  }
  if (!(CLIENT_EVENT_TYPES as string[]).includes(obj.type)) {
    return {
      ok: false,
      error: errorEvent(
        'invalid_value',
        `Invalid value: '${obj.type.slice(0, 100)}'. Supported values are: ${CLIENT_EVENT_TYPES.map((t) => `'${t}'`).join(', ')}.`,
        {
          param: 'type',
          clientEventId,
        },
      ),
    };
  }
  const parsed = clientEventSchema.safeParse(obj);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.join('.');
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    return {
      ok: false,
      error: errorEvent(
        missing ? 'missing_required_parameter' : 'invalid_value',
        missing ? `Missing required parameter: '${param}'.` : `Invalid value for '${param}': ${issue.message}.`,
        { param, clientEventId },
      ),
    };
  }
  return { ok: true, event: parsed.data as unknown as RealtimeClientEvent };
}
