import { describe, expect, it } from 'vitest';
import type { Route } from '../../functions/routes';
import { Router } from '../../emulators/functions-host/router';

const r = (name: string, route: string, methods: Route['methods'] = ['GET']): Route => ({
  name,
  route,
  methods,
  authLevel: 'anonymous',
  handler: async () => ({ status: 200 }),
});

describe('Router', () => {
  const router = new Router([
    r('a', 'sessions/{id}'),
    r('b', 'sessions/{id}/call', ['POST']),
    r('c', 'files/{*rest}'),
    r('d', 'x/{id:guid}'),
  ]);

  it('matches templates and decodes params', () => {
    expect(router.match('/sessions/abc%20d', 'GET')).toMatchObject({ route: { name: 'a' }, params: { id: 'abc d' } });
    expect(router.match('sessions/1/call', 'POST')).toMatchObject({ route: { name: 'b' }, params: { id: '1' } });
    expect(router.match('files/a/b/c', 'GET')).toMatchObject({ params: { rest: 'a/b/c' } });
    expect(router.match('x/123', 'GET')).toMatchObject({ route: { name: 'd' }, params: { id: '123' } });
  });

  it('distinguishes unknown paths from wrong methods', () => {
    expect(router.match('nothing', 'GET')).toBeUndefined();
    expect(router.match('sessions/1/call', 'GET')).toEqual({ methodNotAllowed: ['POST'] });
  });
});
