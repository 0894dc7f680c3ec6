import { describe, expect, it } from 'vitest';
import { createTokenBucket } from '../../shared/ratelimit/token-bucket';

describe('token bucket', () => {
  it('allows a burst of perMinute, then refuses with the seconds until the next token', () => {
    let t = 0;
    const rl = createTokenBucket({ perMinute: 6, now: () => t });
    for (let i = 0; i < 6; i++) expect(rl.take('a').allowed).toBe(true);
    const refused = rl.take('a');
    expect(refused).toMatchObject({ allowed: false, retryAfterSeconds: 10 });
    t += 9_000;
    expect(rl.take('a')).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    t += 1_000;
    expect(rl.take('a').allowed).toBe(true);
    expect(rl.take('a').allowed).toBe(false);
  });

  it('keeps callers apart and bounds memory', () => {
    const rl = createTokenBucket({ perMinute: 1, maxKeys: 2, now: () => 0 });
    expect(rl.take('a').allowed).toBe(true);
    expect(rl.take('b').allowed).toBe(true);
    expect(rl.take('a').allowed).toBe(false);
    rl.take('c'); // evicts the least recently used bucket ('b')
    expect(rl.take('b').allowed).toBe(true);
  });
});
