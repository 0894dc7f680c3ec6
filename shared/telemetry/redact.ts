/**
 * Redaction for anything that goes to logs or span attributes. Logs leave the process (App Insights, OTLP),
 * so secrets must be removed at the source; user speech is personal data, so raw audio never leaves and
 * transcript text only when LOG_TRANSCRIPTS is on.
 */
export interface RedactOptions {
  /** Keep transcript text (LOG_TRANSCRIPTS=true). */
  logTranscripts?: boolean;
  /** Maximum depth walked; deeper values become '[depth]' (guards against huge or cyclic payloads). */
  maxDepth?: number;
}

export const REDACTED = '[redacted]';

/** Secret shapes that can appear inside any string (error messages, URLs, headers copied into text). */
const SECRET_PATTERNS: [RegExp, string][] = [
  // Realtime ephemeral client secrets.
  [/\bek_[A-Za-z0-9_-]{4,}/g, `ek_${REDACTED}`],
  // Standard Webhooks signing secrets.
  [/\bwhsec_[A-Za-z0-9+/=_-]{4,}/g, `whsec_${REDACTED}`],
  // OpenAI-style API keys (sk-..., sk-proj-...).
  [/\bsk-[A-Za-z0-9_-]{8,}/g, `sk-${REDACTED}`],
  // Authorization headers / bearer tokens (JWTs included).
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  // Bare JWTs (three base64url segments, header starting with eyJ).
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g, `[jwt ${REDACTED}]`],
  // Storage / Service Bus / Web PubSub connection-string keys.
  [/\b(AccountKey|AccessKey|SharedAccessKey|SharedAccessSignature)=[^;\s"']+/gi, `$1=${REDACTED}`],
  // Keys passed in query strings or header-ish text.
  [/([?&](?:api[-_]?key|sig|code|client_secret|access_token|token)=)[^&\s"';]+/gi, `$1${REDACTED}`],
  [/\b(api[-_]?key|client_secret|access_token)=[^&\s"';]+/gi, `$1=${REDACTED}`],
  [/\b(api-key|x-api-key|authorization)\s*:\s*[^\s,"';}]+/gi, `$1: ${REDACTED}`],
];

/** Object keys whose values are secrets whatever they look like. */
const SECRET_KEY = new RegExp(
  '^(' +
    'authorization|api[-_]?key|x-api-key|password|passwd|secret|client_?secret|.*_secret|secrets|.*secret_?key|' +
    'access_?token|refresh_?token|id_?token|token|connection_?string|.*connectionstring|sas|signature|' +
    'webhook-signature|cookie|set-cookie' +
    ')$',
  'i',
);

/** Keys carrying base64 audio in Realtime events (`input_audio_buffer.append.audio`, `*.audio.delta.delta`). */
const AUDIO_KEY = /^(audio|audio_base64|pcm|input_audio)$/i;

/** Keys carrying what someone said or what the model answered. */
const TRANSCRIPT_KEY = /^(transcript|text|transcription)$/i;

/** Event types whose `delta` is audio or text (the `delta` key alone is ambiguous). */
const AUDIO_DELTA_EVENT = /audio\.delta$/;
const TEXT_DELTA_EVENT = /(text|transcript|transcription)\.delta$/;

export function redactString(value: string): string {
  let out = value;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

const describeAudio = (v: unknown) =>
  typeof v === 'string' ? `[audio ${Math.floor((v.length * 3) / 4)} bytes]` : '[audio]';

/** Deep copy of `value` with secrets, audio and (unless allowed) transcript text removed. */
export function redact<T>(value: T, opts: RedactOptions = {}): T {
  const maxDepth = opts.maxDepth ?? 8;
  const seen = new WeakSet<object>();

  const walk = (v: unknown, depth: number, key: string | undefined, eventType: string | undefined): unknown => {
    if (typeof v === 'string') {
      if (key !== undefined) {
        if (SECRET_KEY.test(key)) return REDACTED;
        if (AUDIO_KEY.test(key)) return describeAudio(v);
        if (key === 'delta' && eventType && AUDIO_DELTA_EVENT.test(eventType)) return describeAudio(v);
        if (!opts.logTranscripts) {
          if (TRANSCRIPT_KEY.test(key)) return `[transcript ${v.length} chars]`;
          if (key === 'delta' && eventType && TEXT_DELTA_EVENT.test(eventType)) return `[transcript ${v.length} chars]`;
        }
      }
      return redactString(v);
    }
    if (v === null || typeof v !== 'object') {
      if (key !== undefined && SECRET_KEY.test(key) && v !== undefined && typeof v !== 'boolean') return REDACTED;
      return v;
    }
    if (v instanceof Error) {
      return { name: v.name, message: redactString(v.message) };
    }
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return `[binary ${(v as ArrayBuffer).byteLength} bytes]`;
    if (seen.has(v)) return '[cycle]';
    if (depth >= maxDepth) return '[depth]';
    seen.add(v);
    if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1, undefined, eventType));
    const obj = v as Record<string, unknown>;
    const type = typeof obj.type === 'string' ? obj.type : eventType;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(obj)) {
      out[k] = SECRET_KEY.test(k) && x !== null && typeof x === 'object' ? REDACTED : walk(x, depth + 1, k, type);
    }
    return out;
  };

  return walk(value, 0, undefined, undefined) as T;
}

/** Header names whose values must never be logged or recorded as span attributes. */
export function redactHeaders(headers: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out[k] =
      SECRET_KEY.test(k) || /^(api-key|x-functions-key|webhook-signature|x-worker-secret)$/i.test(k)
        ? REDACTED
        : redactString(v);
  }
  return out;
}
