import Module from 'node:module';

/**
 * A stand-in for `@azure/functions-core`, the module the Functions Node worker injects into the app: the
 * `@azure/functions` package finds it with `require`, sets its programming model and registers every
 * function through it. Capturing those calls gives exactly what the host would index: each function's
 * metadata (trigger and bindings) and the callback the worker would invoke.
 */
export interface Registration {
  name: string;
  bindings: Record<string, { type: string; direction: string; [k: string]: unknown }>;
  handler: (...args: unknown[]) => unknown;
}

interface CoreStub {
  registrations: Registration[];
  programmingModel?: unknown;
}

const CORE = '@azure/functions-core';
const stub: CoreStub = { registrations: [] };
let installed = false;

const coreApi = {
  version: '4.0.0-sim',
  hostVersion: '4.1037.0',
  setProgrammingModel(model: unknown) {
    stub.programmingModel = model;
  },
  getProgrammingModel() {
    return stub.programmingModel;
  },
  registerFunction(metadata: { name: string; bindings: Registration['bindings'] }, handler: Registration['handler']) {
    stub.registrations.push({ name: metadata.name, bindings: metadata.bindings, handler });
    return { dispose() {} };
  },
  registerHook() {
    return { dispose() {} };
  },
  log() {},
  Disposable: class {
    dispose() {}
  },
};

/** Serves the stub to every `require('@azure/functions-core')` in this process (as the worker does). */
export function installFunctionsCore(): void {
  if (installed) return;
  installed = true;
  const m = Module as unknown as { _load: (request: string, parent: unknown, isMain: boolean) => unknown };
  const load = m._load;
  m._load = function (request: string, parent: unknown, isMain: boolean) {
    if (request === CORE) return coreApi;
    return load.call(this, request, parent, isMain);
  };
}

/** Loads an app entry (ESM) and returns what it registered. One call per bundle path (imports are cached). */
export async function loadApp(entry: string): Promise<Registration[]> {
  installFunctionsCore();
  const before = stub.registrations.length;
  await import(entry);
  return stub.registrations.slice(before);
}
