import { logFailure } from '../telemetry/log';

/** Largest MCP HTTP response body read (bytes). Tool outputs are cut far below this; the rest is never buffered. */
export const MAX_MCP_RESPONSE_BYTES = 1024 * 1024;

export class ResponseTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`MCP response exceeds ${limit} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

/**
 * Wraps fetch so each response body is counted while it streams and cancelled past `maxBytes`: a server that
 * answers 50 MB costs at most `maxBytes` of memory (plus socket buffers), never the whole body.
 */
export function cappedFetch(base: typeof fetch, maxBytes = MAX_MCP_RESPONSE_BYTES): typeof fetch {
  return async (input, init) => {
    const res = await base(input, init);
    if (!res.body) return res;
    const declared = Number(res.headers.get('content-length') ?? 'NaN');
    if (declared > maxBytes) {
      await res.body.cancel().catch(logFailure(console.warn, 'mcp: cancelling an oversized response'));
      throw new ResponseTooLargeError(maxBytes);
    }
    let seen = 0;
    const reader = res.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) return controller.close();
        seen += value.byteLength;
        if (seen > maxBytes) {
          await reader.cancel().catch(logFailure(console.warn, 'mcp: cancelling an oversized response'));
          return controller.error(new ResponseTooLargeError(maxBytes));
        }
        controller.enqueue(value);
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}
