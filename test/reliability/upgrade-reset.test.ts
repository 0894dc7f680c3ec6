import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRealtimeEmulator, type RealtimeEmulator } from '../../emulators/realtime/index';

/**
 * Found by the 1,000-session load run: a worker that gives up on a refused sideband upgrade resets the TCP
 * connection, and the emulator process died on the unhandled socket error. Many refused upgrades, each reset
 * by the client as soon as the refusal is written, must leave the emulator up.
 */
let emulator: RealtimeEmulator;
beforeAll(async () => {
  emulator = await startRealtimeEmulator({ apiKeys: ['k'] });
});
afterAll(async () => emulator?.stop());

function refusedThenReset(port: number, path: string): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(
        `GET ${path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\napi-key: k\r\n\r\n`,
      );
    });
    // Reset before reading the refusal: the server's write or end meets ECONNRESET.
    s.once('data', () => (s.resetAndDestroy(), resolve()));
    s.on('error', () => resolve());
    setTimeout(() => (s.destroy(), resolve()), 2000);
  });
}

describe('realtime emulator under clients resetting refused upgrades', () => {
  it('stays up and keeps answering', async () => {
    const port = Number(new URL(emulator.url).port);
    for (let round = 0; round < 5; round++) {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          refusedThenReset(port, `/openai/v1/realtime?call_id=rtc_gone_${round}_${i}`),
        ),
      );
    }
    const health = await fetch(`${emulator.url}/_emulator/health`);
    expect(health.status).toBe(200);
  });
});
