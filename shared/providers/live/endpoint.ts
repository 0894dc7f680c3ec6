import { trimSlash } from '../realtime-client';

/** Azure OpenAI / AI Foundry / Cognitive Services hosts: the Live API sits under `/openai/v1` there. */
const AZURE_HOST = /\.(openai\.azure\.com|cognitiveservices\.azure\.com|services\.ai\.azure\.com)$/i;

/**
 * Where the Live API of REALTIME_ENDPOINT is: Azure (`{origin}/openai/v1`, key in `api-key` or Entra) when the host
 * is an Azure one or the endpoint names an `/openai` path (the emulator in Azure shape), OpenAI (`{origin}/v1`,
 * Bearer key) otherwise.
 */
export function liveApiBase(endpoint: string): { base: string; azure: boolean } {
  const url = trimSlash(endpoint);
  const azure = AZURE_HOST.test(new URL(url).hostname) || /\/openai(\/v1)?$/i.test(url);
  const origin = url.replace(/\/openai(\/v1)?$/i, '').replace(/\/v1$/i, '');
  return { base: azure ? `${origin}/openai/v1` : `${origin}/v1`, azure };
}
