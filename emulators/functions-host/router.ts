import type { Route } from '../../functions/routes';

export interface Match {
  route: Route;
  params: Record<string, string>;
}

interface Compiled {
  route: Route;
  regex: RegExp;
  names: string[];
}

/** Matches Azure Functions route templates (`sessions/{id}/call`, `{id:guid}`, `{*rest}`) the way the host does. */
export class Router {
  private readonly compiled: Compiled[];

  constructor(routes: Route[]) {
    this.compiled = routes.map((route) => {
      const names: string[] = [];
      const pattern = route.route
        .replace(/^\/+|\/+$/g, '')
        .split('/')
        .map((seg) => {
          const m = /^\{(\*)?([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]+)?(\?)?\}$/.exec(seg);
          if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          names.push(m[2]!);
          return m[1] ? '(.*)' : m[3] ? '([^/]*)' : '([^/]+)';
        })
        .join('/');
      return { route, names, regex: new RegExp(`^${pattern}$`, 'i') };
    });
  }

  /** Returns the match, or `methodNotAllowed` when the path exists with other methods. */
  match(path: string, method: string): Match | { methodNotAllowed: string[] } | undefined {
    const clean = path.replace(/^\/+|\/+$/g, '');
    const allowed: string[] = [];
    for (const c of this.compiled) {
      const m = c.regex.exec(clean);
      if (!m) continue;
      if (!c.route.methods.includes(method as never)) {
        allowed.push(...c.route.methods);
        continue;
      }
      const params: Record<string, string> = {};
      c.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1] ?? '')));
      return { route: c.route, params };
    }
    return allowed.length ? { methodNotAllowed: allowed } : undefined;
  }
}
