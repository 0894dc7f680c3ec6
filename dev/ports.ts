import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

/**
 * Picks are reserved across processes with one file per port, created exclusively and holding the picker's pid,
 * until that process exits. Between a pick and its service's bind (seconds for Azurite on a loaded machine) the
 * port looks free to everyone; without the reservation, a test file in another vitest worker once picked the same
 * port, bound it first, and this one's storage requests reached that test's server ("no route for /Tables").
 */
const RESERVATIONS = join(tmpdir(), 'rtva-port-reservations');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The directory is made once per process, not on every pick. */
let reservationsDir = false;

function reserve(port: number): boolean {
  const file = join(RESERVATIONS, String(port));
  try {
    if (!reservationsDir) {
      mkdirSync(RESERVATIONS, { recursive: true });
      reservationsDir = true;
    }
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return true; // no reservations here: the bind check remains
  }
  let owner: number;
  try {
    owner = Number(readFileSync(file, 'utf8'));
  } catch {
    return false; // being written or released right now: pick another
  }
  // Empty: created this instant and not written yet (or a crash mid-write): never taken over.
  if (!(Number.isInteger(owner) && owner > 0) || owner === process.pid || alive(owner)) return false;
  // Left by a process that is gone: take it over, then check nobody else did in the same instant.
  writeFileSync(file, String(process.pid));
  return readFileSync(file, 'utf8') === String(process.pid);
}

process.once('exit', () => {
  for (const port of handedOut) {
    try {
      unlinkSync(join(RESERVATIONS, String(port)));
    } catch {
      // already gone
    }
  }
});

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
 * bind to port 0 kept open; random picks below the ephemeral range, reserved across processes until the picker
 * exits, and a bind check against anything else that holds the port.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const [low, high] = pickRange();
  for (let i = 0; i < 200; i++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (handedOut.has(port) || !reserve(port)) continue;
    handedOut.add(port);
    if (await bindable(port, host)) return port;
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
