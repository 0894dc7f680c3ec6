import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RealtimeProvider, SessionConfig } from '../../shared/providers/types';
import { UpstreamError } from '../../shared/providers/types';

/** What the contract needs from a reachable service beyond the provider itself. */
export interface ContractTarget {
  provider: RealtimeProvider;
  /** The same provider with a wrong credential (auth failures must surface as UpstreamError 401). */
  withWrongKey: RealtimeProvider;
  /** Makes a SIP call ring and returns its call id (a test number on a real service; the emulator's dev hook). */
  ringSipCall(): Promise<string>;
  /** Makes the next REST call answer 429 with Retry-After: 4. */
  throttleNextRest(): void;
  stop(): Promise<void>;
}

const SESSION: SessionConfig = {
  type: 'realtime',
  model: 'gpt-realtime',
  instructions: 'Contract-suite agent: answer in one short sentence.',
  output_modalities: ['text'],
};

/** Next JSON event of a given type (or the first event when no type is given). */
function nextEvent(ws: WebSocket, type?: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(
      () => (ws.off('message', on), reject(new Error(`no ${type ?? 'event'} within ${timeoutMs} ms`))),
      timeoutMs,
    );
    const on = (data: WebSocket.RawData) => {
      const e = JSON.parse(data.toString()) as Record<string, unknown>;
      if (type && e.type !== type) return;
      clearTimeout(t);
      ws.off('message', on);
      resolve(e);
    };
    ws.on('message', on);
  });
}

const closed = (ws: WebSocket, timeoutMs = 5000) =>
  new Promise<number>((resolve, reject) => {
    if (ws.readyState === ws.CLOSED) return resolve(1000);
    const t = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
    ws.once('close', (code) => (clearTimeout(t), resolve(code)));
  });

const upstream = (p: Promise<unknown>) =>
  p.then(
    () => {
      throw new Error('expected an UpstreamError');
    },
    (e: unknown) => e as UpstreamError,
  );

/**
 * One behavioural suite for every RealtimeProvider that can be reached from here. Each provider's own URL,
 * header and auth details are checked separately against recorded fixtures; this checks what callers rely on.
 */
export function providerContract(label: string, setup: () => Promise<ContractTarget>) {
  describe(`RealtimeProvider contract: ${label}`, () => {
    let t: ContractTarget;
    const sockets: WebSocket[] = [];
    beforeAll(async () => {
      t = await setup();
    });
    afterAll(async () => {
      for (const s of sockets) s.terminate();
      await t?.stop();
    });

    it('mints an ek_ client secret that expires within the TTL', async () => {
      const before = Math.floor(Date.now() / 1000);
      const secret = await t.provider.mintClientSecret(SESSION, 30);
      expect(secret.value).toMatch(/^ek_/);
      expect(secret.expiresAt).toBeGreaterThan(before);
      expect(secret.expiresAt).toBeLessThanOrEqual(before + 31);
    });

    it('the minted secret opens the connect URL with the session config it was minted for', async () => {
      const secret = await t.provider.mintClientSecret(SESSION, 30);
      const { websocketUrl } = t.provider.connectUrls('gpt-realtime');
      const ws = new WebSocket(websocketUrl, { headers: { authorization: `Bearer ${secret.value}` } });
      sockets.push(ws);
      const created = await nextEvent(ws, 'session.created');
      expect((created.session as { instructions?: string }).instructions).toBe(SESSION.instructions);
    });

    it('openDirect resolves with an open socket that receives session.created', async () => {
      const ws = await t.provider.openDirect('gpt-realtime');
      sockets.push(ws);
      expect(ws.readyState).toBe(WebSocket.OPEN);
      await nextEvent(ws, 'session.created');
    });

    it('accepts a ringing SIP call, attaches a sideband to it, and hangs it up', async () => {
      const callId = await t.ringSipCall();
      await t.provider.acceptCall(callId, SESSION);
      const ws = await t.provider.openSideband(callId);
      sockets.push(ws);
      ws.send(
        JSON.stringify({ type: 'session.update', session: { type: 'realtime', instructions: SESSION.instructions } }),
      );
      const updated = await nextEvent(ws, 'session.updated');
      expect((updated.session as { instructions?: string }).instructions).toBe(SESSION.instructions);
      await t.provider.hangupCall(callId);
      await closed(ws);
    });

    it('rejects a ringing call; a second decision on it fails with an UpstreamError', async () => {
      const callId = await t.ringSipCall();
      await t.provider.rejectCall(callId, 486);
      const err = await upstream(t.provider.acceptCall(callId, SESSION));
      expect(err).toBeInstanceOf(UpstreamError);
      expect(err.status).toBeGreaterThanOrEqual(400);
      expect(err.status).toBeLessThan(500);
    });

    it('refuses a sideband for an unknown call with UpstreamError 404', async () => {
      const err = await upstream(t.provider.openSideband('rtc_does_not_exist'));
      expect(err).toBeInstanceOf(UpstreamError);
      expect(err.status).toBe(404);
    });

    it('surfaces a wrong credential as UpstreamError 401 on REST and WebSocket', async () => {
      expect((await upstream(t.withWrongKey.mintClientSecret(SESSION, 30))).status).toBe(401);
      expect((await upstream(t.withWrongKey.openDirect('gpt-realtime'))).status).toBe(401);
    });

    it('surfaces throttling as UpstreamError 429 with its Retry-After', async () => {
      t.throttleNextRest();
      const err = await upstream(t.provider.mintClientSecret(SESSION, 30));
      expect(err.status).toBe(429);
      expect(err.retryAfterSeconds).toBe(4);
    });
  });
}
