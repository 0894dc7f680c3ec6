/**
 * Evaluates the compiled ARM template (languageVersion 2.0, as `bicep build` writes it) for given parameters, the
 * way Resource Manager would up to the values only a deployment knows: those (a resource's runtime properties, an
 * identity's principal id, a generated host name) come back as `Runtime` placeholders naming where they come from.
 * Modules are deployed recursively, so a module's outputs flow into the modules that use them. Only the functions
 * this template uses are implemented; an unknown one throws, naming it.
 */
import { createHash } from 'node:crypto';
import { parse, type Node } from './arm-expression';

export class Runtime {
  constructor(readonly path: string) {}
  toString() {
    return `{{${this.path}}}`;
  }
}

export interface Deployed {
  /** Module path from the root, e.g. `storage` or `endpoints[2]`. */
  module: string;
  symbol: string;
  type: string;
  apiVersion: string;
  name: string;
  scope?: unknown;
  value: Record<string, any>;
}

type Template = Record<string, any>;
const hash = (...parts: unknown[]) =>
  createHash('sha256')
    .update(parts.map((p) => String(p)).join('|'))
    .digest('hex');

const ENVIRONMENT = {
  name: 'AzureCloud',
  suffixes: { storage: 'core.windows.net', acrLoginServer: '.azurecr.io', keyvaultDns: '.vault.azure.net' },
  authentication: { loginEndpoint: 'https://login.microsoftonline.com/' },
};
const SUBSCRIPTION_ID = '00000000-0000-0000-0000-00000000beef';
export const TENANT_ID = '00000000-0000-0000-0000-00000000cafe';

function get(obj: unknown, key: string | number): unknown {
  if (obj instanceof Runtime) return new Runtime(`${obj.path}.${key}`);
  if (obj === null || obj === undefined) throw new Error(`property ${key} of ${String(obj)}`);
  return (obj as Record<string, unknown>)[key];
}

const str = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : v instanceof Runtime
      ? v.toString()
      : typeof v === 'object'
        ? JSON.stringify(v)
        : String(v);

class Scope {
  private vars = new Map<string, unknown>();
  private deployments = new Map<string, Template>();
  readonly deployed: Deployed[] = [];
  readonly outputs: Record<string, unknown> = {};

  constructor(
    readonly template: Template,
    readonly params: Record<string, unknown>,
    readonly module: string,
    private readonly sink: Deployed[],
  ) {}

  eval(value: unknown, locals: Record<string, unknown> = {}): any {
    if (typeof value === 'string') {
      if (value.startsWith('[[')) return value.slice(1);
      if (value.startsWith('[') && value.endsWith(']')) return this.node(parse(value.slice(1, -1)), locals);
      return value;
    }
    if (Array.isArray(value)) return value.map((v) => this.eval(v, locals));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) {
        if (k === 'copy' && Array.isArray(v) && v.every((c) => c && typeof c === 'object' && 'input' in c)) {
          for (const c of v as { name: string; count: unknown; input: unknown }[]) {
            const count = this.eval(c.count, locals) as number;
            out[c.name] = Array.from({ length: count }, (_, i) =>
              this.eval(c.input, { ...locals, [`copy:${c.name}`]: i }),
            );
          }
        } else out[k] = this.eval(v, locals);
      }
      return out;
    }
    return value;
  }

  variable(name: string): unknown {
    if (!this.vars.has(name)) {
      const raw = this.template.variables ?? {};
      const loop = (raw.copy as { name: string; count: unknown; input: unknown }[] | undefined)?.find(
        (c) => c.name === name,
      );
      if (loop) {
        const n = this.eval(loop.count) as number;
        this.vars.set(
          name,
          Array.from({ length: n }, (_, i) => this.eval(loop.input, { [`copy:${name}`]: i })),
        );
      } else if (name in raw) this.vars.set(name, this.eval(raw[name]));
      else throw new Error(`no variable ${name} in ${this.module || 'main'}`);
    }
    return this.vars.get(name);
  }

  private node(n: Node, locals: Record<string, unknown>): any {
    switch (n.k) {
      case 'lit':
        return n.v;
      case 'prop':
        return get(this.node(n.of, locals), n.name);
      case 'index':
        return get(this.node(n.of, locals), this.node(n.at, locals) as string);
      case 'call':
        return this.call(n.name, n.args, locals);
    }
  }

  private call(name: string, args: Node[], locals: Record<string, unknown>): any {
    const a = (i: number) => this.node(args[i]!, locals);
    const all = () => args.map((x) => this.node(x, locals));
    const user = name.match(/^(\w+)\.(\w+)$/);
    if (user && this.template.functions) {
      const fn = (this.template.functions as { namespace: string; members: Record<string, any> }[]).find(
        (f) => f.namespace === user[1],
      )?.members[user[2]!];
      if (fn) {
        const bound = Object.fromEntries((fn.parameters as { name: string }[]).map((p, i) => [p.name, a(i)]));
        return new Scope(this.template, bound, this.module, this.sink).eval(fn.output.value);
      }
    }
    switch (name) {
      case 'parameters':
        if (!(a(0) in this.params)) throw new Error(`no parameter ${a(0)} in ${this.module || 'main'}`);
        return this.params[a(0)];
      case 'variables':
        return this.variable(a(0));
      case 'lambdaVariables':
        return locals[`lambda:${a(0)}`];
      case 'copyIndex': {
        const loop = args.length && typeof a(0) === 'string' ? `copy:${a(0)}` : 'copy:';
        const offset = args.length && typeof a(args.length - 1) === 'number' ? a(args.length - 1) : 0;
        return (locals[loop] as number) + offset;
      }
      case 'lambda':
        return (...values: unknown[]) => {
          const names = args.slice(0, -1).map((x) => this.node(x, locals) as string);
          const inner = { ...locals, ...Object.fromEntries(names.map((nm, i) => [`lambda:${nm}`, values[i]])) };
          return this.node(args[args.length - 1]!, inner);
        };
      case 'if':
        return a(0) ? a(1) : a(2);
      case 'coalesce':
        for (const x of args) {
          const v = this.node(x, locals);
          if (v !== null && v !== undefined) return v;
        }
        return null;
      case 'tryGet': {
        let v = a(0);
        for (let i = 1; i < args.length && v !== null && v !== undefined; i++) v = get(v, a(i));
        return v ?? null;
      }
      case 'null':
        return null;
      case 'true':
        return true;
      case 'false':
        return false;
      case 'equals':
        return str(a(0)) === str(a(1));
      case 'not':
        return !a(0);
      case 'and':
        return all().every(Boolean);
      case 'or':
        return all().some(Boolean);
      case 'greater':
        return a(0) > a(1);
      case 'empty': {
        const v = a(0);
        if (v instanceof Runtime) return false;
        return (
          v === null ||
          v === '' ||
          (Array.isArray(v) ? v.length === 0 : typeof v === 'object' && !Object.keys(v).length)
        );
      }
      case 'length':
        return Array.isArray(a(0)) || typeof a(0) === 'string' ? a(0).length : Object.keys(a(0)).length;
      case 'format':
        return str(a(0)).replace(/\{(\d+)\}/g, (_, d: string) => str(a(Number(d) + 1)));
      case 'concat': {
        const xs = all();
        return Array.isArray(xs[0]) ? xs.flat() : xs.map(str).join('');
      }
      case 'createObject': {
        const xs = all();
        const o: Record<string, unknown> = {};
        for (let i = 0; i < xs.length; i += 2) o[xs[i] as string] = xs[i + 1];
        return o;
      }
      case 'createArray':
        return all();
      case 'union': {
        const xs = all();
        return Array.isArray(xs[0]) ? [...new Set(xs.flat())] : Object.assign({}, ...xs);
      }
      case 'items':
        return Object.keys(a(0))
          .sort()
          .map((key) => ({ key, value: a(0)[key] }));
      case 'map':
        return (a(0) as unknown[]).map((x, i) => a(1)(x, i));
      case 'filter':
        return (a(0) as unknown[]).filter((x, i) => a(1)(x, i));
      case 'split':
        return str(a(0)).split(a(1));
      case 'trim':
        return str(a(0)).trim();
      case 'replace':
        return str(a(0))
          .split(str(a(1)))
          .join(str(a(2)));
      case 'toLower':
        return str(a(0)).toLowerCase();
      case 'string':
        return typeof a(0) === 'string' ? a(0) : str(a(0));
      case 'json':
        return JSON.parse(a(0));
      case 'uniqueString':
        return hash(...all()).slice(0, 13);
      case 'guid': {
        const h = hash(...all());
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
      }
      case 'subscription':
        return { id: `/subscriptions/${SUBSCRIPTION_ID}`, subscriptionId: SUBSCRIPTION_ID };
      case 'tenant':
        return { tenantId: TENANT_ID };
      case 'environment':
        return ENVIRONMENT;
      case 'subscriptionResourceId': {
        const xs = all().map(str);
        return `/subscriptions/${SUBSCRIPTION_ID}/providers/${xs[0]}/${xs.slice(1).join('/')}`;
      }
      case 'resourceId': {
        const xs = all().map(str);
        const t = xs.findIndex((x) => x.includes('/'));
        const [ns, ...types] = xs[t]!.split('/');
        const names = xs.slice(t + 1);
        return `/providers/${ns}/${types.map((ty, i) => `${ty}/${names[i]}`).join('/')}`;
      }
      case 'reference':
        return this.reference(a(0));
      default:
        throw new Error(`ARM function ${name}() is not implemented by the test evaluator`);
    }
  }

  private resourcesById(): Record<string, Template> {
    const r = this.template.resources;
    return Array.isArray(r) ? Object.fromEntries(r.map((x: Template, i: number) => [String(i), x])) : r;
  }

  /** reference(symbol): a module's outputs (deployed on demand) or a resource's runtime properties. */
  private reference(target: unknown): unknown {
    const symbol = typeof target === 'string' ? target : str(target);
    const res = this.resourcesById()[symbol];
    if (res?.type === 'Microsoft.Resources/deployments' && !res.copy) {
      const inner = this.deployModule(symbol, res, {});
      return { outputs: Object.fromEntries(Object.entries(inner.outputs).map(([k, v]) => [k, { value: v }])) };
    }
    return new Runtime(`${this.module ? `${this.module}/` : ''}${symbol}`);
  }

  private deployModule(symbol: string, res: Template, locals: Record<string, unknown>, label = symbol): Scope {
    const key = label;
    if (!this.deployments.has(key)) {
      const props = res.properties;
      const given = Object.fromEntries(
        // A parameter entry is `{ value }`, or an expression producing one (a conditional value).
        Object.entries(props.parameters ?? {}).map(([k, v]) => [k, (this.eval(v, locals) as { value: unknown }).value]),
      );
      const path = this.module ? `${this.module}/${label}` : label;
      const inner = new Scope(props.template, resolveParams(props.template, given), path, this.sink);
      this.deployments.set(key, inner as unknown as Template);
      inner.deployAll();
    }
    return this.deployments.get(key) as unknown as Scope;
  }

  deployAll(): void {
    for (const [symbol, res] of Object.entries(this.resourcesById())) {
      if (res.existing) continue;
      const count = res.copy ? (this.eval(res.copy.count) as number) : 1;
      for (let i = 0; i < count; i++) {
        const locals = res.copy ? { [`copy:${res.copy.name}`]: i, 'copy:': i } : {};
        if (res.condition !== undefined && !this.eval(res.condition, locals)) continue;
        const label = res.copy ? `${symbol}[${i}]` : symbol;
        if (res.type === 'Microsoft.Resources/deployments') {
          this.deployModule(symbol, res, locals, label);
          continue;
        }
        const value = this.eval(res, locals) as Record<string, any>;
        this.sink.push({
          module: this.module,
          symbol: label,
          type: res.type,
          apiVersion: res.apiVersion,
          name: str(value.name),
          scope: value.scope,
          value,
        });
      }
    }
    for (const [k, o] of Object.entries(this.template.outputs ?? {}))
      this.outputs[k] = this.eval((o as { value: unknown }).value);
  }
}

function resolveParams(template: Template, given: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const scope = new Scope(template, out, '', []);
  for (const [name, def] of Object.entries(template.parameters ?? {}) as [string, any][]) {
    if (name in given) out[name] = given[name];
    else if ('defaultValue' in def) out[name] = scope.eval(def.defaultValue);
    else throw new Error(`parameter ${name} has no value and no default`);
  }
  return out;
}

export interface Evaluation {
  resources: Deployed[];
  outputs: Record<string, unknown>;
  /** Resources of one type, optionally only those deployed by one module (its path's last segment). */
  ofType(type: string, module?: string): Deployed[];
}

export function evaluate(template: Template, params: Record<string, unknown>): Evaluation {
  const resources: Deployed[] = [];
  const root = new Scope(template, resolveParams(template, params), '', resources);
  root.deployAll();
  return {
    resources,
    outputs: root.outputs,
    ofType: (type, module) =>
      resources.filter((r) => r.type === type && (module === undefined || r.module.split('/').pop() === module)),
  };
}
