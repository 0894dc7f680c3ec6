import { describe, expect, it } from 'vitest';
import { sharedPostSessionReads } from '../../shared/memory/post-session-reads';
import type { MemoryStore } from '../../shared/memory/types';

describe('sharedPostSessionReads', () => {
  it('serves the summarizer and the judge from one row read and one transcript read', async () => {
    const calls: string[] = [];
    const sessions = {
      get: async (id: string) => (calls.push(`get ${id}`), { sessionId: id } as never),
      update: async (_id: string, _patch: object) => void calls.push('update'),
    };
    const history = {
      forSession: async (p: string, id: string) => (calls.push(`items ${p} ${id}`), []),
    } as unknown as MemoryStore;
    const view = sharedPostSessionReads(sessions, history);
    await Promise.all([
      view.sessions.get('s1'),
      view.sessions.get('s1'),
      view.history.forSession('u', 's1'),
      view.history.forSession('u', 's1'),
    ]);
    await view.sessions.update('s1', {});
    await view.sessions.get('s2');
    expect(calls).toEqual(['get s1', 'items u s1', 'update', 'get s2']);
  });

  it('does not remember a failed read', async () => {
    let n = 0;
    const sessions = {
      get: async (_id: string) => {
        if (n++ === 0) throw new Error('boom');
        return undefined;
      },
      update: async () => {},
    };
    const view = sharedPostSessionReads(sessions, {} as MemoryStore);
    await expect(view.sessions.get('s')).rejects.toThrow('boom');
    await expect(view.sessions.get('s')).resolves.toBeUndefined();
    expect(n).toBe(2);
  });
});
