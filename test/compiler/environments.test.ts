/**
 * Environment overlays (apis/environments/<env>.json): `validate|compile --env`, the bundle's
 * environment, bad overlays at their own file:line:col, and `compile --ref prod/v1.4`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestRepo } from '../gitops/repo.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

function sluice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin/sluice.js'), ...args], { cwd: root, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

const API = {
  name: 'Orders',
  contextPaths: ['/orders'],
  entrypoints: [{ type: 'sse' }],
  endpoints: [{ type: 'kafka', bootstrapServers: ['localhost:9092'], consumer: { topics: ['orders'] } }],
};
const PLAN = { name: 'Open', type: 'keyless', status: 'published' };
const overlay = (broker: string) => ({
  $schema: '../../schemas/environment.schema.json',
  apis: { orders: { endpoints: [{ type: 'kafka', bootstrapServers: [broker], consumer: { topics: ['orders'] } }], plans: { open: { description: `plan in ${broker}` } } } },
});

async function writeTree(dir: string, files: Record<string, unknown>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(join(dir, path, '..'), { recursive: true });
    await writeFile(join(dir, path), typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
}

let work: string;
let apis: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sluice-envs-'));
  apis = join(work, 'apis');
  await writeTree(apis, {
    'orders/api.json': API,
    'orders/plans/open.json': PLAN,
    'environments/staging.json': overlay('staging-kafka:9092'),
    'environments/prod.json': overlay('prod-kafka:9092'),
  });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function bundleOf(stdout: string, out: string): Promise<Record<string, any>> {
  const id = stdout.trim().split('\n').at(-1)!;
  return JSON.parse(await readFile(join(out, `${id}.json`), 'utf8'));
}

describe('compile --env', () => {
  it('applies each overlay: two envs give two bundle ids, each recording its environment', async () => {
    const out = join(work, 'out');
    const staging = await sluice('compile', apis, '--out', out, '--env', 'staging');
    const prod = await sluice('compile', apis, '--out', out, '--env', 'prod');
    const none = await sluice('compile', apis, '--out', out);
    expect([staging.code, prod.code, none.code], staging.stderr + prod.stderr + none.stderr).toEqual([0, 0, 0]);
    const [a, b, c] = await Promise.all([bundleOf(staging.stdout, out), bundleOf(prod.stdout, out), bundleOf(none.stdout, out)]);
    expect(a.environment).toBe('staging');
    expect(b.environment).toBe('prod');
    expect(c.environment).toBeUndefined();
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    expect(a.apis.orders.definition.endpoints[0].bootstrapServers).toEqual(['staging-kafka:9092']);
    expect(b.apis.orders.definition.endpoints[0].bootstrapServers).toEqual(['prod-kafka:9092']);
    expect(c.apis.orders.definition.endpoints[0].bootstrapServers).toEqual(['localhost:9092']);
    expect(b.apis.orders.plans.open.description).toBe('plan in prod-kafka:9092');
    expect(staging.stdout).toContain('for environment staging');
  });

  it('refuses an unknown environment with exit 2, listing the available ones', async () => {
    const { code, stderr } = await sluice('validate', apis, '--env', 'qa');
    expect(code).toBe(2);
    expect(stderr).toContain('there is no environment "qa"');
    expect(stderr).toContain('available: prod, staging');
  });
});

describe('a bad overlay is refused at its own file:line:col', () => {
  const cases: [string, string, RegExp][] = [
    ['unknown API', '{\n  "apis": {\n    "payments": { "name": "x" }\n  }\n}\n', /\/environments\/bad\.json:3:5 +ENV_UNKNOWN_API .*"payments"/m],
    ['unknown plan', '{\n  "apis": {\n    "orders": {\n      "plans": { "gold": { "name": "x" } }\n    }\n  }\n}\n', /\/environments\/bad\.json:4:18 +ENV_UNKNOWN_PLAN .*"gold"/m],
    ['unknown field', '{\n  "apis": {\n    "orders": {\n      "contextPath": ["/o"]\n    }\n  }\n}\n', /\/environments\/bad\.json:4:7 +SCHEMA_UNKNOWN_PROPERTY .*"contextPath".*set by environments\/bad\.json for orders\/api\.json/m],
    ['bad type', '{\n  "apis": {\n    "orders": {\n      "plans": { "open": { "status": 7 } }\n    }\n  }\n}\n', /\/environments\/bad\.json:4:38 +SCHEMA_ENUM .*got 7 \(set by environments\/bad\.json for orders\/plans\/open\.json\)/m],
    ['bad overlay shape', '{\n  "apis": [],\n  "extra": 1\n}\n', /\/environments\/bad\.json:2:11 +SCHEMA_TYPE /m],
  ];
  for (const [what, text, expected] of cases) {
    it(what, async () => {
      const dir = join(work, `bad-${what.replace(/ /g, '-')}`);
      await writeTree(dir, { 'orders/api.json': API, 'orders/plans/open.json': PLAN, 'environments/bad.json': text });
      const { code, stdout } = await sluice('validate', dir, '--env', 'bad');
      expect(code, stdout).toBe(1);
      expect(stdout).toMatch(expected);
      // without --env, validate checks the definitions and each overlay: the bad one is still found
      const all = await sluice('validate', dir);
      expect(all.code, all.stdout).toBe(1);
      expect(all.stdout).toMatch(expected);
      // and compile without --env applies none: the definitions themselves compile
      expect((await sluice('compile', dir, '--out', join(dir, '.out'))).code).toBe(0);
    });
  }

  it('an error in a value the API file holds stays at the API file', async () => {
    const dir = join(work, 'api-error');
    await writeTree(dir, { 'orders/api.json': { ...API, state: 'paused' }, 'orders/plans/open.json': PLAN, 'environments/dev.json': { apis: { orders: { name: 'Dev orders' } } } });
    const { code, stdout } = await sluice('validate', dir, '--env', 'dev');
    expect(code).toBe(1);
    expect(stdout).toMatch(/\/orders\/api\.json:24:12 +SCHEMA_ENUM .*"paused"\n/);
  });
});

describe('compile --ref with namespaced release tags', () => {
  let repo: TestRepo;
  beforeAll(async () => {
    repo = new TestRepo();
    repo.write({
      'apis/orders/api.json': API,
      'apis/orders/plans/open.json': PLAN,
      'apis/environments/prod.json': overlay('prod-kafka:9092'),
      'apis/environments/staging.json': overlay('staging-kafka:9092'),
    });
    repo.commit('apis');
    repo.tag('prod/v1.4').tag('qa/v1.0').tag('v1.0');
  });
  afterAll(() => repo.remove());

  it('prod/v1.4 picks the prod overlay; a plain tag none; --env wins', async () => {
    const out = join(work, 'ref-out');
    const prod = await sluice('compile', '--ref', 'prod/v1.4', '--repo', repo.dir, '--out', out);
    expect(prod.code, prod.stderr).toBe(0);
    const bundle = await bundleOf(prod.stdout, out);
    expect(bundle.environment).toBe('prod');
    expect(bundle.source.tag).toBe('prod/v1.4');
    expect(bundle.apis.orders.definition.endpoints[0].bootstrapServers).toEqual(['prod-kafka:9092']);
    const plain = await sluice('compile', '--ref', 'v1.0', '--repo', repo.dir, '--out', out);
    expect((await bundleOf(plain.stdout, out)).environment).toBeUndefined();
    const forced = await sluice('compile', '--ref', 'prod/v1.4', '--repo', repo.dir, '--out', out, '--env', 'staging');
    expect((await bundleOf(forced.stdout, out)).environment).toBe('staging');
  });

  it('a tag prefix naming no overlay is exit 2, listing the available ones', async () => {
    const { code, stderr } = await sluice('compile', '--ref', 'qa/v1.0', '--repo', repo.dir, '--out', join(work, 'ref-out'));
    expect(code).toBe(2);
    expect(stderr).toMatch(/no environment "qa".*available: prod, staging/);
  });

  it('diff --env compiles both sides with the overlay', async () => {
    const { code, stdout, stderr } = await sluice('diff', 'v1.0', 'prod/v1.4', '--repo', repo.dir, '--env', 'prod');
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('0 changed'); // both sides prod
    // without --env each side takes its tag's environment: v1.0 none, prod/v1.4 prod
    const plain = await sluice('diff', 'v1.0', 'prod/v1.4', '--repo', repo.dir);
    expect(plain.stdout).toContain('endpoints.kafka.bootstrapServers: ["localhost:9092"] -> ["prod-kafka:9092"]');
    const across = await sluice('diff', 'v1.0', 'v1.0', '--repo', repo.dir, '--env', 'qa');
    expect(across.code).toBe(2);
  });
});
