import { createServer } from 'node:net';

/** A port the OS says is free right now (tests never use fixed ports). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
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
