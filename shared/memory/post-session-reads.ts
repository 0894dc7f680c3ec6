import type { SessionStore } from '../stores/sessions';
import type { MemoryStore } from './types';

/**
 * When a session ends, the summarizer and the judge each read its row and its transcript. This view shares one
 * read of each between them (storage transactions are billed per call). Only the post-session steps get this
 * view: nothing else should see a row that may be seconds old. Writes go straight through.
 */
export function sharedPostSessionReads<S extends Pick<SessionStore, 'get' | 'update'>, H extends MemoryStore>(
  sessions: S,
  history: H,
  ttlMs = 60_000,
): { sessions: S; history: H } {
  const memo = <A extends unknown[], R>(key: (...a: A) => string, load: (...a: A) => Promise<R>) => {
    const cache = new Map<string, { at: number; value: Promise<R> }>();
    return (...args: A): Promise<R> => {
      const now = Date.now();
      for (const [k, v] of cache) if (now - v.at > ttlMs) cache.delete(k);
      const k = key(...args);
      const hit = cache.get(k);
      if (hit) return hit.value;
      const value = load(...args);
      cache.set(k, { at: now, value });
      // A failed read is not remembered: the next caller tries again.
      value.catch(() => cache.get(k)?.value === value && cache.delete(k));
      return value;
    };
  };
  return {
    sessions: {
      ...sessions,
      get: memo(
        (id: string) => id,
        (id: string) => sessions.get(id),
      ),
    } as S,
    history: {
      ...history,
      forSession: memo(
        (p: string, id: string) => `${p}|${id}`,
        (p: string, id: string) => history.forSession(p, id),
      ),
    } as H,
  };
}
