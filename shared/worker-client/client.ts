import type { ProviderName } from '../config/index';
import { attachResponseSchema, type AttachBody, type AttachResponse } from './api';
import { bearer } from './auth';
import { logFailure } from '../telemetry/log';

export interface WorkerClientOptions {
  /** Base URL of the worker app (Container Apps internal ingress; locally the replica balancer). */
  baseUrl: string;
  /** Sent with every attach, so a worker configured for another realtime service refuses it. */
  provider?: ProviderName;
  secret: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Why an attach did not happen; `retryable` tells the caller whether another replica may do better. */
export class WorkerCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'WorkerCallError';
  }
}

export interface WorkerClient {
  attach(body: Omit<AttachBody, 'provider'> & { provider?: ProviderName }): Promise<AttachResponse>;
  /** Best effort: 404 (the worker does not hold it) is success. */
  detach(sessionId: string, reason: string): Promise<void>;
}

/** The Function app's client of the worker's internal API. */
export function createWorkerClient(opts: WorkerClientOptions): WorkerClient {
  const f = opts.fetch ?? fetch;
  const base = opts.baseUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 10_000;

  async function post(path: string, body: unknown): Promise<Response> {
    try {
      return await f(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: bearer(opts.secret), 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      // Connection refused / reset / timeout: the replica is gone or restarting; another try may land elsewhere.
      throw new WorkerCallError(0, 'unreachable', `worker unreachable: ${(err as Error).message}`, true);
    }
  }

  async function failure(res: Response): Promise<WorkerCallError> {
    let code = 'worker_error';
    let message = `worker answered ${res.status}`;
    try {
      const j = (await res.json()) as { error?: { code?: string; message?: string } };
      code = j.error?.code ?? code;
      message = j.error?.message ?? message;
    } catch {
      /* not JSON */
    }
    // 503: draining / full; 5xx: transient. 4xx: this request is wrong and will stay wrong.
    return new WorkerCallError(res.status, code, message, res.status >= 500 || res.status === 429);
  }

  return {
    async attach(body) {
      const res = await post('/attach', { ...body, provider: body.provider ?? opts.provider });
      if (!res.ok) throw await failure(res);
      return attachResponseSchema.parse(await res.json());
    },
    async detach(sessionId, reason) {
      const res = await post('/detach', { sessionId, reason });
      if (res.ok || res.status === 404) {
        await res.body?.cancel().catch(logFailure(console.warn, `worker detach ${sessionId}: discarding the answer`));
        return;
      }
      throw await failure(res);
    },
  };
}
