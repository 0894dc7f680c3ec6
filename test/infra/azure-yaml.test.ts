/**
 * azure.yaml validates against the azd schema rules (infra/schemas/azure.yaml.schema.json), and what it points at
 * exists: service projects, the worker Dockerfile, hook scripts, and a Function app package that keeps what the
 * host needs.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { read, ROOT } from './files';

type Hook = { run?: string; shell?: string; posix?: Hook; windows?: Hook };
type Service = {
  project?: string;
  host: string;
  language?: string;
  remoteBuild?: boolean;
  docker?: { path?: string; context?: string; remoteBuild?: boolean };
};
type AzureYaml = {
  name: string;
  requiredVersions?: { azd?: string };
  services: Record<string, Service>;
  hooks?: Record<string, Hook | Hook[]>;
  pipeline?: { variables?: string[]; secrets?: string[] };
};

const schema = JSON.parse(read('infra/schemas/azure.yaml.schema.json')) as object;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const project = parse(read('azure.yaml')) as AzureYaml;

const byVersion = (a: string, b: string) => {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (x![i] !== y![i]) return x![i]! - y![i]!;
  return 0;
};

const errorsOf = (doc: unknown) =>
  validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);

describe('azure.yaml', () => {
  it('validates against the azd schema', () => {
    expect(errorsOf(project)).toEqual([]);
  });

  it('the schema refuses what azd refuses', () => {
    const clone = () => structuredClone(project) as unknown as Record<string, any>;
    const bad: [string, Record<string, any>][] = [];
    let d = clone();
    d.name = 'Has Spaces';
    bad.push(['bad name', d]);
    d = clone();
    d.services.api.docker = { path: 'x' };
    bad.push(['docker on a function host', d]);
    d = clone();
    d.services.worker.image = 'nginx';
    bad.push(['containerapp with image and project', d]);
    d = clone();
    d.services.worker.remoteBuild = true;
    bad.push(['remoteBuild on a container app', d]);
    d = clone();
    d.hooks.postprovison = { run: 'x', shell: 'sh' };
    bad.push(['misspelt hook', d]);
    d = clone();
    d.hooks.postprovision.posix.shell = 'bash';
    bad.push(['unknown shell', d]);
    d = clone();
    d.services.worker.docker.file = 'x';
    bad.push(['unknown docker key', d]);
    d = clone();
    delete d.services.api.host;
    bad.push(['service without host', d]);
    for (const [what, doc] of bad) expect(errorsOf(doc).length, what).toBeGreaterThan(0);
  });

  it('has an api Function service and a worker Container App service matching the Bicep tags', () => {
    expect(project.services.api).toMatchObject({ host: 'function', project: '.' });
    expect(project.services.worker).toMatchObject({ host: 'containerapp', project: '.' });
    expect(read('infra/modules/function-app.bicep')).toContain(`'azd-service-name': 'api'`);
    expect(read('infra/modules/worker-app.bicep')).toContain(`'azd-service-name': 'worker'`);
  });

  it('requires an azd that supports every option it uses', () => {
    // The azd release that introduced each option (azd's CHANGELOG); the floor is the newest of those used.
    const introducedIn: [string, (y: AzureYaml) => boolean, string][] = [
      ['hooks with posix/windows blocks', (y) => Object.values(y.hooks ?? {}).length > 0, '1.0.0'],
      ['docker.remoteBuild on a Container App (#4161)', (y) => has(y, 'containerapp', 'docker'), '1.10.0'],
      ['remoteBuild on a Flex Consumption Function app (#6748)', (y) => has(y, 'function', 'remoteBuild'), '1.23.5'],
    ];
    const has = (y: AzureYaml, host: string, key: string) =>
      Object.values(y.services).some(
        (s) => s.host === host && key in s && (key !== 'docker' || 'remoteBuild' in s.docker!),
      );
    const floor = introducedIn
      .filter(([, used]) => used(project))
      .map(([, , v]) => v)
      .sort(byVersion)
      .pop()!;
    expect(floor).toBe('1.23.5');
    const required = /^>= ?(\d+\.\d+\.\d+)$/.exec(project.requiredVersions?.azd ?? '')?.[1];
    expect(required, 'requiredVersions.azd should read ">= x.y.z"').toBeDefined();
    expect(byVersion(required!, floor)).toBeGreaterThanOrEqual(0);
  });

  it('points at files that exist', () => {
    for (const s of Object.values(project.services)) expect(existsSync(join(ROOT, s.project ?? '.'))).toBe(true);
    const docker = project.services.worker!.docker!;
    const dockerfile = join(ROOT, project.services.worker!.project!, docker.path!);
    expect(existsSync(dockerfile), `worker Dockerfile ${docker.path} is missing`).toBe(true);
    const serviceHooks = Object.values(project.services).flatMap((s) =>
      Object.values((s as { hooks?: Record<string, Hook | Hook[]> }).hooks ?? {}),
    );
    const hooks = [...Object.values(project.hooks ?? {}), ...serviceHooks].flat();
    const runs = hooks.flatMap((h) => [h.run, h.posix?.run, h.windows?.run]).filter((r): r is string => Boolean(r));
    expect(runs.length).toBeGreaterThanOrEqual(4); // postprovision + api postdeploy, posix and windows
    for (const r of runs) {
      const script = /\b(infra\/hooks\/[\w.-]+\.ts)\b/.exec(r)?.[1];
      expect(script, `hook "${r}" should run a script under infra/hooks`).toBeDefined();
      expect(existsSync(join(ROOT, script!)), `${script} is missing`).toBe(true);
    }
  });

  it('passes the pipeline variables the parameters file reads', () => {
    const parameters = read('infra/main.parameters.json');
    for (const v of [...(project.pipeline?.variables ?? []), ...(project.pipeline?.secrets ?? [])])
      expect(parameters, `pipeline variable ${v} is not used by main.parameters.json`).toContain(`\${${v}`);
    const workflow = read('.github/workflows/azure-dev.yml');
    for (const v of project.pipeline?.variables ?? []) expect(workflow).toContain(`${v}: \${{ vars.${v} }}`);
    for (const v of project.pipeline?.secrets ?? []) expect(workflow).toContain(`${v}: \${{ secrets.${v} }}`);
  });
});

/** Minimal gitignore matching for the patterns .funcignore uses: `/anchored/`, `dir/`, `*.ext`, `name`. */
function ignored(path: string, patterns: string[]): boolean {
  return patterns.some((p) => {
    const dirOnly = p.endsWith('/');
    const body = dirOnly ? p.slice(0, -1) : p;
    const anchored = body.startsWith('/');
    const glob = anchored ? body.slice(1) : body;
    const re = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    const parts = path.split('/');
    const candidates = anchored
      ? [parts.slice(0, glob.split('/').length).join('/')]
      : parts.map((_, i) => parts.slice(i, i + glob.split('/').length).join('/'));
    return candidates.some(
      (c, i) =>
        re.test(c) &&
        (!dirOnly || (anchored ? parts.length > glob.split('/').length : i + glob.split('/').length < parts.length)),
    );
  });
}

describe('Function app package (.funcignore)', () => {
  const patterns = read('.funcignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const pkg = JSON.parse(read('package.json')) as { main: string; scripts: Record<string, string> };

  it('keeps host.json, package.json and the bundle package.json "main" points at', () => {
    expect(pkg.main).toMatch(/^dist\/functions\//);
    expect(pkg.scripts.build, 'azd runs `npm run build` before packaging').toBeDefined();
    for (const f of ['host.json', 'package.json', pkg.main, `${pkg.main}.map`])
      expect(ignored(f, patterns), f).toBe(false);
  });

  it('leaves out sources, tests, tooling and node_modules (the bundle carries its dependencies)', () => {
    for (const f of [
      'node_modules/zod/index.js',
      'functions/index.ts',
      'shared/config/index.ts',
      'test/infra/x.test.ts',
      'infra/main.bicep',
      'worker/main.ts',
      'dist/worker/main.js',
      'local.settings.json',
    ])
      expect(ignored(f, patterns), f).toBe(true);
  });
});

describe('.github/workflows/azure-dev.yml', () => {
  type Job = {
    needs?: string;
    environment?: unknown;
    env?: Record<string, string>;
    steps: { uses?: string; run?: string }[];
  };
  const wf = parse(read('.github/workflows/azure-dev.yml')) as {
    on: { push: { branches: string[] } };
    permissions: Record<string, string>;
    jobs: Record<string, Job>;
  };
  const runs = (job: Job) => job.steps.map((s) => s.run ?? '').join('\n');

  it('tests with .ci/run, then provisions and deploys on push to main', () => {
    expect(wf.on.push.branches).toEqual(['main']);
    expect(runs(wf.jobs.test!)).toContain('bash .ci/run');
    const deploy = wf.jobs.deploy!;
    expect(deploy.needs).toBe('test');
    const script = runs(deploy);
    expect(script.indexOf('azd provision --no-prompt')).toBeGreaterThan(0);
    expect(script.indexOf('azd deploy --no-prompt')).toBeGreaterThan(script.indexOf('azd provision --no-prompt'));
  });

  it('logs in keyless with the GitHub OIDC federated credential', () => {
    expect(wf.permissions['id-token']).toBe('write');
    const deploy = wf.jobs.deploy!;
    expect(runs(deploy)).toMatch(/azd auth login[\s\S]*--federated-credential-provider github/);
    // An `environment:` changes the token subject and breaks the branch credential azd pipeline config creates.
    expect(deploy.environment).toBeUndefined();
    expect(JSON.stringify(wf)).not.toMatch(/client-secret|AZURE_CLIENT_SECRET|creds:/i);
  });
});
