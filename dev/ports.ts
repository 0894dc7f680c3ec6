import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Below the kernel's ephemeral range: a port picked here cannot be taken by an outgoing connection's local port
 * between the pick and the service's bind (with port 0 it could, and a test then failed with EADDRINUSE).
 */
function readPickRange(): [number, number] {
  let low = 32768; // Linux's default ip_local_port_range start
  try {
    low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) || low;
  } catch {
    // not Linux: keep the default
  }
  return [Math.max(1024, low - 12_000), low - 1];
}
let range: [number, number] | undefined;
const pickRange = () => (range ??= readPickRange());

const handedOut = new Set<number>();

function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

/**
 * A port free right now, never handed out before by this process (tests never use fixed ports). Every port of a
 * stack is known before anything starts so each service's settings can name the others, so the pick cannot be a
 * bind to port 0 kept open; random picks below the ephemeral range leave only another process picking the same
 * port in the same instant, which the bind check before each pick makes rarer still.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [low, high] = pickRange();
  for (let i = 0; i < 200; i++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (handedOut.has(port)) continue;
    if (await bindable(port, host)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port between ${low} and ${high} on ${host}`);
}

export class PortInUseError extends Error {
  constructor(
    readonly service: string,
    readonly port: number,
    readonly setting: string,
  ) {
    super(`port ${port} for ${service} is already in use — stop whatever holds it or set ${setting} to another port`);
    this.name = 'PortInUseError';
  }
}

/** Fails with a clear message naming the setting to change when a port is taken. */
export function assertPortFree(service: string, port: number, setting: string, host = '127.0.0.1'): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(service, port, setting) : err),
    );
    srv.listen(port, host, () => srv.close(() => resolve()));
  });
}
