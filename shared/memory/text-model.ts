import type { TokenCredential } from '@azure/identity';
import type { CommonConfig } from '../config/index';
import { apiKeyAuth, authHeaders, bearerKeyAuth, entraAuth } from '../providers/credentials';
import { httpClient, trimSlash, type RealtimeClientOptions } from '../providers/realtime-client';
import { liveApiBase } from '../providers/live/endpoint';
import { UpstreamError } from '../providers/types';

export type TextModelConfig = Pick<
  CommonConfig,
  'REALTIME_PROVIDER' | 'REALTIME_ENDPOINT' | 'REALTIME_API_KEY' | 'TEXT_MODEL'
>;

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface TextModel {
  complete(messages: ChatMessage[], opts?: { maxTokens?: number }): Promise<string>;
}

/**
 * Chat completions on the same resource as the realtime provider, v1 paths:
 * Azure OpenAI / Foundry / the emulator `{endpoint}/openai/v1/chat/completions` (api-key, or keyless with
 * DefaultAzureCredential when no key is set), OpenAI `{endpoint}/v1/chat/completions` (bearer key).
 * TEXT_MODEL is the model name (OpenAI) or the deployment name (Azure).
 */
export function createTextModel(
  config: TextModelConfig,
  opts: RealtimeClientOptions & { credential?: TokenCredential } = {},
): TextModel {
  const endpoint = trimSlash(config.REALTIME_ENDPOINT);
  let base: string;
  let auth;
  const onOpenAI =
    config.REALTIME_PROVIDER === 'openai' ||
    (config.REALTIME_PROVIDER === 'live' && !liveApiBase(config.REALTIME_ENDPOINT).azure);
  if (onOpenAI) {
    if (!config.REALTIME_API_KEY)
      throw new Error(`REALTIME_API_KEY: the ${config.REALTIME_PROVIDER} provider on OpenAI needs an API key`);
    base = `${endpoint.replace(/\/v1$/i, '')}/v1`;
    auth = authHeaders(bearerKeyAuth(config.REALTIME_API_KEY));
  } else {
    base = `${endpoint.replace(/\/openai(\/v1)?$/i, '')}/openai/v1`;
    auth = authHeaders(config.REALTIME_API_KEY ? apiKeyAuth(config.REALTIME_API_KEY) : entraAuth(opts.credential));
  }
  const http = httpClient(base, auth, { timeoutMs: 30_000, ...opts });
  return {
    async complete(messages, o = {}) {
      const body = (await http.post('/chat/completions', {
        model: config.TEXT_MODEL,
        messages,
        temperature: 0,
        ...(o.maxTokens ? { max_tokens: o.maxTokens } : {}),
      })) as { choices?: { message?: { content?: unknown } }[] } | undefined;
      const content = body?.choices?.[0]?.message?.content;
      if (typeof content !== 'string') throw new UpstreamError(502, 'chat completions answer has no message content');
      return content.trim();
    },
  };
}
