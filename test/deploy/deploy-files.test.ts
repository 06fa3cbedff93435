/**
 * The container and Kubernetes files name only what exists: there is no Docker or cluster here,
 * so the suite checks that every path the Dockerfile copies is in the repository or made by the
 * build, every command, flag and SLUICE_* variable is one sluice has, the manifests parse as
 * YAML, the probes ask the admin port, and the shutdown timings fit together.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { envName, unknownEnv } from '../../cli/args.ts';
import { DEFAULT_DRAIN_DELAY_MS, OTHER_ENV, parseDrainDelay, SERVER_FLAGS } from '../../cli/options.ts';
import { SERVE_FLAGS } from '../../cli/serve.ts';
import { usage } from '../../cli/main.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const K8S = join(ROOT, 'deploy/kubernetes');
const FLAGS = [...SERVER_FLAGS, ...SERVE_FLAGS];
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

interface Instruction { keyword: string; args: string }
/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
function dockerfile(): Instruction[] {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  return text.split('\n').map((line) => line.trim()).filter((line) => line && !line.startsWith('#')).map((line) => {
    const [keyword, ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
}
const instructions = dockerfile();
const exec = (keyword: string): string[] => JSON.parse(instructions.find((i) => i.keyword === keyword)!.args) as string[];
/** ENV of the runtime stage (after the last FROM). */
function imageEnv(): Record<string, string> {
  const last = instructions.map((i) => i.keyword).lastIndexOf('FROM');
  const env: Record<string, string> = {};
  for (const i of instructions.slice(last).filter((i) => i.keyword === 'ENV')) {
    for (const [, name, value] of i.args.matchAll(/(\w+)=(\S+)/g)) env[name] = value;
  }
  return env;
}

/** Flags in an argument list (`--flag value` / `--flag=value`) and the command before them. */
function checkSluiceArgs(args: string[], where: string): void {
  expect(usage(), `${where}: the command ${args[0]}`).toContain(`sluice ${args[0]} `);
  expect(args[0], where).toBe('serve');
  for (const arg of args.slice(1).filter((a) => a.startsWith('--'))) expect(FLAGS, `${where}: ${arg}`).toContain(arg.split('=')[0]);
}
function checkEnvNames(names: string[], where: string): void {
  const env = Object.fromEntries(names.map((name) => [name, 'x']));
  expect(unknownEnv(FLAGS, OTHER_ENV, env).map((u) => u.name), `${where}: SLUICE_* variables no flag reads`).toEqual([]);
}

describe('Dockerfile', () => {
  it('is multi-stage: npm ci, npm run build, npm prune --omit=dev; each npm script exists', () => {
    const runs = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args).join(' && ');
    expect(runs).toContain('npm ci');
    expect(runs).toContain('npm prune --omit=dev');
    for (const [, script] of runs.matchAll(/npm run ([\w:-]+)/g)) expect(Object.keys(pkg.scripts), `npm run ${script}`).toContain(script);
    expect(instructions.filter((i) => i.keyword === 'FROM').map((i) => i.args)).toEqual(['node:20-slim AS build', 'node:20-slim']);
  });

  it('copies only paths that exist in the repository or that the build stage makes (node_modules by npm ci, dist/ by npm run build)', () => {
    const made = new Set(['node_modules', 'dist']);
    const copies = instructions.filter((i) => i.keyword === 'COPY').map((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--')));
    const fromBuild = instructions.filter((i) => i.keyword === 'COPY' && i.args.includes('--from=build')).map((i) => i.args.split(/\s+/).filter((a) => !a.startsWith('--'))[0]);
    expect(fromBuild.map((p) => p.replace(/^\/app\//, '')).sort()).toEqual(['bin', 'dist', 'node_modules', 'package.json', 'schemas']);
    for (const parts of copies) {
      for (const source of parts.slice(0, -1)) {
        const path = source.replace(/^\/app\/?/, '') || '.';
        expect(existsSync(join(ROOT, path)) || made.has(path), `COPY ${source}`).toBe(true);
      }
    }
    // dist/ is what the build writes and what bin/sluice.js runs.
    expect(pkg.scripts.build, 'an npm build script').toBeDefined();
    expect(readFileSync(join(ROOT, 'bin/sluice.js'), 'utf8')).toMatch(/dist['"/, ]+cli['"/, ]+main\.js/);
  });

  it('the build context keeps what the build needs (.dockerignore)', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const needed of ['package.json', 'package-lock.json', 'bin', 'schemas', 'cli', 'core', 'compiler', 'runtime', 'tsconfig.json']) expect(ignored).not.toContain(needed);
    for (const heavy of ['node_modules', '.git', 'dist']) expect(ignored).toContain(heavy);
  });

  it('runs `node bin/sluice.js serve` as a non-root user, configured by SLUICE_* variables sluice reads', () => {
    expect(exec('ENTRYPOINT')).toEqual(['node', 'bin/sluice.js']);
    expect(existsSync(join(ROOT, 'bin/sluice.js'))).toBe(true);
    checkSluiceArgs(exec('CMD'), 'Dockerfile CMD');
    const user = instructions.filter((i) => i.keyword === 'USER').at(-1)?.args;
    expect(user && user !== 'root' && user !== '0').toBe(true);
    const env = imageEnv();
    checkEnvNames(Object.keys(env).filter((n) => n.startsWith('SLUICE_')), 'Dockerfile ENV');
    expect(env).toMatchObject({ [envName('--host')]: '0.0.0.0', [envName('--admin-host')]: '0.0.0.0' });
    const exposed = instructions.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
    expect(exposed.sort()).toEqual([env.SLUICE_ADMIN_PORT, env.SLUICE_PORT].sort());
  });

  it('HEALTHCHECK asks /healthz on the admin port with node (no curl in slim images)', () => {
    const check = instructions.find((i) => i.keyword === 'HEALTHCHECK')!.args;
    const command = JSON.parse(check.slice(check.indexOf('CMD') + 3).trim()) as string[];
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    expect(command[2]).toContain('/healthz');
    expect(command[2]).toContain('process.env.SLUICE_ADMIN_PORT || 18082');
  });
});

/** Every document of every manifest (kind → documents). */
function manifests(): { file: string; doc: Record<string, any> }[] {
  const docs: { file: string; doc: Record<string, any> }[] = [];
  for (const file of readdirSync(K8S).filter((f) => f.endsWith('.yaml'))) {
    for (const document of parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))) {
      expect(document.errors, file).toEqual([]);
      docs.push({ file, doc: document.toJS() as Record<string, any> });
    }
  }
  return docs;
}

describe('deploy/kubernetes', () => {
  const all = manifests();
  const kind = (k: string) => all.filter((m) => m.doc.kind === k).map((m) => m.doc);
  const deployment = kind('Deployment')[0]!;
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  const env: Record<string, any> = Object.fromEntries(container.env.map((e: { name: string }) => [e.name, e]));
  const portOf = (name: string | number) => (typeof name === 'number' ? name : container.ports.find((p: { name: string }) => p.name === name)?.containerPort);

  it('parse as YAML; kustomization lists every manifest', () => {
    expect(all.map((m) => m.doc.kind).sort()).toEqual(['Deployment', 'Kustomization', 'NetworkPolicy', 'Service', 'Service', 'ServiceMonitor']);
    const resources = kind('Kustomization')[0]!.resources as string[];
    expect(resources.sort()).toEqual(readdirSync(K8S).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort());
  });

  it('the container runs a real sluice command with real flags and SLUICE_* variables', () => {
    checkSluiceArgs(container.args, 'Deployment args');
    checkEnvNames(Object.keys(env), 'Deployment env');
    expect(env.SLUICE_STORE_TOKEN.valueFrom.secretKeyRef).toMatchObject({ name: expect.any(String), key: expect.any(String) });
    expect(env.SLUICE_STORE_TOKEN.value).toBeUndefined();
  });

  it('probes: liveness /healthz and readiness /readyz on the admin port', () => {
    const adminPort = Number(env.SLUICE_ADMIN_PORT?.value ?? imageEnv().SLUICE_ADMIN_PORT);
    expect(portOf(container.livenessProbe.httpGet.port)).toBe(adminPort);
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(portOf(container.readinessProbe.httpGet.port)).toBe(adminPort);
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(portOf('gateway')).toBe(Number(env.SLUICE_PORT?.value ?? imageEnv().SLUICE_PORT));
  });

  it('shutdown: preStop sleep ≥ the drain delay; the grace period covers preStop + drain + the 10 s close', () => {
    const drainMs = parseDrainDelay(env.SLUICE_DRAIN_DELAY?.value ?? imageEnv().SLUICE_DRAIN_DELAY, DEFAULT_DRAIN_DELAY_MS.serve);
    const [sleep, seconds] = container.lifecycle.preStop.exec.command as string[];
    expect(sleep).toBe('sleep');
    expect(Number(seconds) * 1000).toBeGreaterThanOrEqual(drainMs);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(Number(seconds) * 1000 + drainMs + 10_000);
  });

  it('non-root, no privilege escalation, resources set', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits.memory).toBeDefined();
  });

  it('Services target the container ports; the ServiceMonitor scrapes /metrics on the admin Service', () => {
    const labels = deployment.spec.template.metadata.labels;
    for (const service of kind('Service')) {
      expect(labels).toMatchObject(service.spec.selector);
      for (const port of service.spec.ports) expect(portOf(port.targetPort), `${service.metadata.name} ${port.name}`).toBeDefined();
    }
    const monitor = kind('ServiceMonitor')[0]!;
    const admin = kind('Service').find((s) => Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels[k] === v))!;
    expect(admin, 'the Service the ServiceMonitor selects').toBeDefined();
    expect(kind('Service').filter((s) => Object.entries(monitor.spec.selector.matchLabels).every(([k, v]) => s.metadata.labels[k] === v))).toHaveLength(1);
    const endpoint = monitor.spec.endpoints[0];
    expect(endpoint.path).toBe('/metrics');
    const port = admin.spec.ports.find((p: { name: string }) => p.name === endpoint.port);
    expect(portOf(port.targetPort)).toBe(Number(env.SLUICE_ADMIN_PORT.value));
  });
});
