import type { ClientSecret, RealtimeProvider, SessionConfig } from '../../shared/providers/types';
import { UpstreamError } from '../../shared/providers/types';

/**
 * A provider double that records what the handlers asked of the realtime service and can be told to fail
 * the next N calls of an operation (the way the real service fails: UpstreamError with a status).
 */
export interface RecordingProvider extends RealtimeProvider {
  calls: { op: string; callId?: string; session?: SessionConfig; statusCode?: number; ttl?: number }[];
  failNext(op: 'mint' | 'accept' | 'reject', times: number, status: number, retryAfter?: number): void;
}

export function recordingProvider(): RecordingProvider {
  const failures = new Map<string, { times: number; status: number; retryAfter?: number }>();
  const maybeFail = (op: string) => {
    const f = failures.get(op);
    if (f && f.times > 0) {
      f.times -= 1;
      throw new UpstreamError(f.status, `injected ${f.status}`, f.retryAfter);
    }
  };
  const calls: RecordingProvider['calls'] = [];
  let n = 0;
  return {
    name: 'emulator',
    capabilities: { webrtc: true, sip: true, clientSecrets: true, sideband: true },
    calls,
    failNext(op, times, status, retryAfter) {
      failures.set(op, { times, status, retryAfter });
    },
    async mintClientSecret(session, ttl): Promise<ClientSecret> {
      maybeFail('mint');
      calls.push({ op: 'mint', session, ttl });
      return { value: `ek_fake_${++n}`, expiresAt: Math.floor(Date.now() / 1000) + ttl, session };
    },
    connectUrls: (model) => ({
      webrtcUrl: 'http://fake/openai/v1/realtime/calls',
      websocketUrl: `ws://fake/openai/v1/realtime?model=${model}`,
    }),
    async acceptCall(callId, session) {
      maybeFail('accept');
      calls.push({ op: 'accept', callId, session });
    },
    async rejectCall(callId, statusCode) {
      maybeFail('reject');
      calls.push({ op: 'reject', callId, statusCode });
    },
    async referCall(callId) {
      calls.push({ op: 'refer', callId });
    },
    async hangupCall(callId) {
      calls.push({ op: 'hangup', callId });
    },
    openSideband: () => Promise.reject(new Error('not in this double')),
    openDirect: () => Promise.reject(new Error('not in this double')),
  };
}
