import { z } from 'zod';
import { DEFAULT_PRICE_TABLE, priceTableSetting } from '../cost/prices';

/**
 * One typed configuration, read from environment variables. The keys are the setting names exactly as they
 * appear in local.settings.sample.json `Values` and in the Bicep app settings, so the infra contract test
 * can compare them without a mapping table.
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const csv = z.string().transform((v) =>
  v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);

export const PROVIDERS = ['emulator', 'azure-openai', 'voice-live', 'openai', 'live'] as const;
export type ProviderName = (typeof PROVIDERS)[number];

/** Settings both the Function app and the worker read. */
const common = {
  /** Connection string for Table Storage (local: Azurite). Either this or STORAGE_TABLE_ENDPOINT. */
  STORAGE_CONNECTION_STRING: z.string().min(1).optional(),
  /** Keyless Table Storage endpoint, e.g. https://acct.table.core.windows.net (managed identity). */
  STORAGE_TABLE_ENDPOINT: z.string().url().optional(),
  /** Which realtime service to talk to. */
  REALTIME_PROVIDER: z.enum(PROVIDERS).default('emulator'),
  /**
   * Base URL of the realtime service: https://{resource}.openai.azure.com, https://api.openai.com, the emulator. For
   * `live`, an Azure host (or an `/openai` path) selects Azure's `/openai/v1/live/…`, anything else OpenAI's `/v1/live/…`.
   */
  REALTIME_ENDPOINT: z.string().url(),
  /** API key; when unset, Azure providers authenticate with managed identity (DefaultAzureCredential). */
  REALTIME_API_KEY: z.string().min(1).optional(),
  /** Model or Azure deployment name used when an agent does not name one. */
  REALTIME_MODEL: z.string().min(1).default('gpt-realtime'),
  /** api-version for AI Foundry Voice Live. */
  REALTIME_API_VERSION: z.string().min(1).default('2025-10-01'),
  /** Client id of the user-assigned managed identity (read by DefaultAzureCredential). */
  AZURE_CLIENT_ID: z.string().min(1).optional(),
  /** Shared secret authenticating the worker's internal API and the worker's callbacks. */
  WORKER_AUTH_SECRET: z.string().min(16, 'must be at least 16 characters'),
  /** Web PubSub: keyless endpoint (Azure) or a connection string (local emulator). */
  WEBPUBSUB_ENDPOINT: z.string().url().optional(),
  WEBPUBSUB_CONNECTION_STRING: z.string().min(1).optional(),
  WEBPUBSUB_HUB: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'letters, digits and _')
    .default('sessions'),
  /** Text model deployment for summaries; judge model for LLM-as-judge scores. */
  TEXT_MODEL: z.string().min(1).default('gpt-4.1-mini'),
  JUDGE_MODEL: z.string().min(1).default('gpt-4.1-mini'),
  APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().min(1).optional(),
  /** Local telemetry exporter when App Insights is not configured. */
  OTEL_EXPORTER: z.enum(['none', 'console', 'otlp']).default('none'),
  /** Include transcript text in logs (off by default: transcripts are user data). */
  LOG_TRANSCRIPTS: bool.default(false),
  /**
   * The Function app's own MCP endpoint, used by agents that name the `builtin` MCP server. Both apps read it:
   * the Function app lists tools when it mints a session token, the worker calls them.
   */
  MCP_BUILTIN_URL: z.string().url().optional(),
  MCP_TOOL_TIMEOUT_MS: int(100, 120_000).default(8000),
  /** Function key for the built-in MCP server (`function` level in Azure; a Key Vault reference there). */
  MCP_BUILTIN_KEY: z.string().min(1).optional(),
  /** Scopes an agent's `managedIdentity` MCP auth may request (comma separated); none by default. */
  MCP_MANAGED_IDENTITY_SCOPES: csv.default([]),
  /** Local development only: agents may name http / loopback MCP URLs (test servers). Never true in Azure. */
  MCP_ALLOW_LOOPBACK_URLS: bool.default(false),
};

const functionsShape = {
  ...common,
  /** How callers of POST /api/sessions are authenticated. `dev` trusts an x-user-id header: local only. */
  AUTH_MODE: z.enum(['entra', 'easyauth', 'dev']),
  ENTRA_TENANT_ID: z.string().min(1).optional(),
  ENTRA_AUDIENCE: z.string().min(1).optional(),
  /** Delegated scopes the API defines (a user token needs one) and app roles (an app-only token needs one). */
  ENTRA_SCOPES: csv.default(['access_as_user']),
  ENTRA_APP_ROLES: csv.default([]),
  /** The app role (in `roles` of the token or the Easy Auth principal) that may use /api/operator/*. */
  OPERATOR_APP_ROLE: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,120}$/, 'an app role value')
    .default('Voice.Operator'),
  /** AUTH_MODE=dev only: x-user-id values given the operator role (comma separated); none by default. */
  DEV_OPERATOR_USERS: csv.default([]),
  /** Standard Webhooks secrets (whsec_...), comma separated; several during rotation. */
  WEBHOOK_SECRETS: csv.optional(),
  CORS_ALLOWED_ORIGINS: csv.default([]),
  SESSION_TOKEN_TTL_SECONDS: int(10, 60).default(60),
  RATE_LIMIT_PER_MINUTE: int(1, 100_000).default(30),
  /** Call minutes a signed-in user may use per UTC day (ended sessions); 0 turns the limit off. */
  DAILY_MINUTES_PER_USER: int(0, 100_000).default(120),
  /** `memory`: a bucket per instance (the limit multiplies with instances); `table`: one counter for all. */
  RATE_LIMIT_STORE: z.enum(['memory', 'table']).default('memory'),
  MAX_BODY_BYTES: int(1024, 4 * 1024 * 1024).default(64 * 1024),
  /** Base URL of the worker's internal API. */
  WORKER_URL: z.string().url(),
  /** `durable` in Azure; `local` when the local runner applies the lifecycle reducer itself. */
  LIFECYCLE_MODE: z.enum(['durable', 'local']).default('durable'),
  HEARTBEAT_TIMEOUT_SECONDS: int(2, 600).default(15),
  MAX_REATTACH_ATTEMPTS: int(0, 20).default(3),
  HISTORY_RETENTION_DAYS: int(1, 3650).default(30),
  /** Share of ended sessions scored by the LLM judge (0–1): each judgement is a model call and a few reads. */
  JUDGE_SAMPLE_RATE: z.coerce.number().min(0).max(1).default(1),
  RESUME_WINDOW_SECONDS: int(0, 3600).default(120),
};

const workerShape = {
  ...common,
  /** Port the worker's internal API listens on. */
  PORT: int(0, 65535).default(8080),
  /** Address the internal API binds: every interface in a container; loopback for local replicas. */
  LISTEN_HOST: z.string().min(1).default('0.0.0.0'),
  /** Base URL of the Function app (lifecycle callbacks: heartbeats, attached, ended). */
  FUNCTIONS_BASE_URL: z.string().url(),
  HEARTBEAT_INTERVAL_SECONDS: int(1, 300).default(5),
  MAX_SESSIONS: int(1, 100_000).default(5000),
  /** Context seeding budget (estimated tokens: ~4 characters each) and how many earlier messages at most. */
  MEMORY_SEED_TOKENS: int(0, 32_000).default(2000),
  MEMORY_SEED_TURNS: int(0, 200).default(20),
  /** Tool calls one session may make; after that every call gets an output the model can speak. */
  MCP_TOOL_CALLS_PER_SESSION: int(1, 10_000).default(40),
  /** Push raw tool output to the page (debugging only; off in Azure). Otherwise the page gets a short summary. */
  DEBUG_TOOL_OUTPUT_TO_PAGE: bool.default(false),
  /** Prices per model (JSON, merged over shared/cost/prices.ts DEFAULT_PRICE_TABLE): what a call costs. */
  PRICE_TABLE: priceTableSetting.default(DEFAULT_PRICE_TABLE),
  /** A call whose cost passes this many USD is logged and counted (voice.session.cost_alerts); unset: never. */
  COST_ALERT_USD: z.coerce.number().positive().optional(),
};

const storageRequired = (c: { STORAGE_CONNECTION_STRING?: string; STORAGE_TABLE_ENDPOINT?: string }) =>
  Boolean(c.STORAGE_CONNECTION_STRING || c.STORAGE_TABLE_ENDPOINT);
const storageMessage = {
  message: 'set STORAGE_CONNECTION_STRING (local) or STORAGE_TABLE_ENDPOINT (managed identity)',
  path: ['STORAGE_CONNECTION_STRING'],
};

export const functionsConfigSchema = z
  .object(functionsShape)
  .refine(storageRequired, storageMessage)
  .refine((c) => c.AUTH_MODE !== 'entra' || (c.ENTRA_TENANT_ID && c.ENTRA_AUDIENCE), {
    message: 'AUTH_MODE=entra needs ENTRA_TENANT_ID and ENTRA_AUDIENCE',
    path: ['ENTRA_TENANT_ID'],
  })
  .refine((c) => c.AUTH_MODE === 'dev' || c.DEV_OPERATOR_USERS.length === 0, {
    message: 'only with AUTH_MODE=dev (operators are an app role otherwise)',
    path: ['DEV_OPERATOR_USERS'],
  })
  // Every answer allows credentials (the page sends cookies under Easy Auth): a wildcard would let any site
  // call the API as the signed-in user.
  .refine((c) => !c.CORS_ALLOWED_ORIGINS.includes('*'), {
    message: "'*' is not allowed (responses carry credentials); list each origin",
    path: ['CORS_ALLOWED_ORIGINS'],
  });

export const workerConfigSchema = z.object(workerShape).refine(storageRequired, storageMessage);

/** Beside the typed settings: the MCP_SECRET_* family, whose names come from agent definitions. */
interface SecretSettings {
  readonly mcpSecrets?: Readonly<Record<string, string>>;
}
export type FunctionsConfig = z.infer<typeof functionsConfigSchema> & SecretSettings;
export type WorkerConfig = z.infer<typeof workerConfigSchema> & SecretSettings;
export type CommonConfig = Pick<FunctionsConfig, keyof typeof common>;

/** Every setting name each app reads: the infra contract test compares these with the Bicep app settings. */
export const FUNCTIONS_SETTINGS = Object.keys(functionsShape) as (keyof typeof functionsShape)[];
export const WORKER_SETTINGS = Object.keys(workerShape) as (keyof typeof workerShape)[];

export class ConfigError extends Error {
  constructor(
    readonly app: string,
    readonly problems: { setting: string; problem: string }[],
  ) {
    super(`Invalid ${app} configuration: ` + problems.map((p) => `${p.setting}: ${p.problem}`).join('; '));
    this.name = 'ConfigError';
  }
}

function parse<T>(app: string, schema: z.ZodType<T>, env: NodeJS.ProcessEnv): T {
  // Empty strings mean "unset": local.settings and Bicep both write them for optional values.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = schema.safeParse(cleaned);
  if (result.success) return result.data;
  throw new ConfigError(
    app,
    result.error.issues.map((i) => ({
      setting: String(i.path[0] ?? '(config)'),
      problem: i.code === 'invalid_type' && i.input === undefined ? 'is required but not set' : i.message,
    })),
  );
}

/**
 * The `MCP_SECRET_*` settings, the only ones an agent definition may name (MCP header values and caller-identity
 * keys). Their names are data, so they are read once here beside the typed settings instead of by the MCP code.
 */
export const MCP_SECRET_SETTING = /^MCP_SECRET_[A-Z0-9_]+$/;
export const mcpSecrets = (env: NodeJS.ProcessEnv = process.env): Readonly<Record<string, string>> =>
  Object.freeze(
    Object.fromEntries(
      Object.entries(env).filter((e): e is [string, string] => MCP_SECRET_SETTING.test(e[0]) && Boolean(e[1])),
    ),
  );

/**
 * Easy Auth headers are trustworthy only when the platform's authentication runs in front of the app (it strips
 * client-sent copies). App Service sets WEBSITE_AUTH_ENABLED itself when it does; nothing in the app sets it.
 */
const platformAuthOn = (env: NodeJS.ProcessEnv) => /^true$/i.test(env.WEBSITE_AUTH_ENABLED ?? '');

export const loadFunctionsConfig = (env: NodeJS.ProcessEnv = process.env): FunctionsConfig => {
  const config = { ...parse('Function app', functionsConfigSchema, env), mcpSecrets: mcpSecrets(env) };
  if (config.AUTH_MODE === 'easyauth' && !platformAuthOn(env))
    throw new ConfigError('Function app', [
      {
        setting: 'AUTH_MODE',
        problem: 'easyauth needs App Service Authentication on (WEBSITE_AUTH_ENABLED=true, set by the platform)',
      },
    ]);
  return config;
};

export const loadWorkerConfig = (env: NodeJS.ProcessEnv = process.env): WorkerConfig => ({
  ...parse('worker', workerConfigSchema, env),
  mcpSecrets: mcpSecrets(env),
});
