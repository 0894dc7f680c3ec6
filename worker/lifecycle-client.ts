import {
  heartbeatResponseSchema,
  type HeartbeatBody,
  type HeartbeatResponse,
  type WorkerReport,
} from '../shared/worker-client/api';
import { bearer } from '../shared/worker-client/auth';

/** The worker's side of the lifecycle: heartbeats and reports, POSTed to the Function app's internal routes. */
export interface WorkerLifecycle {
  heartbeats(body: HeartbeatBody): Promise<HeartbeatResponse>;
  report(sessionId: string, report: WorkerReport): Promise<void>;
}

export function createWorkerLifecycle(opts: {
  functionsBaseUrl: string;
  secret: string;
  timeoutMs?: number;
}): WorkerLifecycle {
  const base = `${opts.functionsBaseUrl.replace(/\/+$/, '')}/api/internal`;
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { authorization: bearer(opts.secret), 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
    });
    if (!res.ok) {
      const text = await res.text().catch(() => '');
      throw new Error(`lifecycle ${path} answered ${res.status}: ${text.slice(0, 200)}`);
    }
    return res.json() as Promise<unknown>;
  };
  return {
    async heartbeats(body) {
      return heartbeatResponseSchema.parse(await post('/heartbeats', body));
    },
    async report(sessionId, report) {
      await post(`/sessions/${encodeURIComponent(sessionId)}/report`, report);
    },
  };
}
