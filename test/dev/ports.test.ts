import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../dev/ports';

const portsModule = fileURLToPath(new URL('../../dev/ports.ts', import.meta.url));

/**
 * Ports picked by a separate process (as another vitest worker would). It prints them once all are picked and stays
 * alive, holding them, until `release()`: a process that exits gives its ports back.
 */
function pickInChild(count: number): { ports: Promise<number[]>; release(): Promise<void> } {
  const code = `const { freePort } = await import(${JSON.stringify(portsModule)});
const ports = []; for (let i = 0; i < ${count}; i++) ports.push(await freePort());
process.stdout.write(JSON.stringify(ports) + '\\n');
process.stdin.resume(); process.stdin.on('end', () => process.exit(0));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ports = new Promise<number[]>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.endsWith('\n')) resolve(JSON.parse(out) as number[]);
    });
    child.once('exit', (code) => reject(new Error(`picker exited (${code}) before printing its ports`)));
  });
  return {
    ports,
    release: () => {
      child.stdin.end();
      return exited;
    },
  };
}

const ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);

describe('freePort', () => {
  it('hands out distinct bindable ports below the ephemeral range, where outgoing connections never land', async () => {
    const ports = await Promise.all(Array.from({ length: 50 }, () => freePort()));
    expect(new Set(ports).size).toBe(50);
    for (const p of ports) expect(p).toBeLessThan(ephemeralLow);
    const srv = createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(ports[0], '127.0.0.1', resolve);
    });
    srv.close();
  });

  it('never hands two processes the same port while both run', async () => {
    // 2 × 2,500 picks out of ~12,000 ports: unreserved random picks would share hundreds.
    const pickers = [pickInChild(2500), pickInChild(2500)];
    try {
      const [a, b] = await Promise.all(pickers.map((p) => p.ports));
      expect(a).toHaveLength(2500);
      const inA = new Set(a);
      expect(b!.filter((p) => inA.has(p))).toEqual([]);
    } finally {
      await Promise.all(pickers.map((p) => p.release()));
    }
  }, 60_000);
});
