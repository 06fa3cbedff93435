/**
 * The package as a user gets it: `npm run build`, `npm pack`, the tarball installed with
 * `--omit=dev` into an empty folder, and `npx sluice` there (the JavaScript in dist/, no tsx, no
 * esbuild). Then `sluice init`: a new repository of API definitions that validates and compiles
 * with the package as its dev dependency, and whose CI workflow commands work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ok, run, serve } from './npm.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const version = (JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
const install = ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline'];
const sluice = (...args: string[]) => ['sluice', ...args];

let work: string;
let tarball: string;
let consumer: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sluice-package-'));
  await ok('npm', ['run', 'build'], repo);
  const packed = await ok('npm', ['pack', '--ignore-scripts', '--pack-destination', work], repo);
  tarball = join(work, packed.stdout.trim().split('\n').at(-1)!);
  consumer = join(work, 'consumer');
  await mkdir(consumer);
  await writeFile(join(consumer, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true }, null, 2)}\n`);
  await ok('npm', [...install, tarball], consumer);
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the installed package', { timeout: 180_000 }, () => {
  it('ships the build, the schemas and the licence, not the sources, tests or benchmarks', async () => {
    const installed = join(consumer, 'node_modules/sluice');
    expect((await readdir(installed)).sort()).toEqual(['LICENSE', 'README.md', 'apis', 'bin', 'dist', 'package.json', 'schemas']);
    expect(existsSync(join(installed, 'dist/cli/main.js'))).toBe(true);
    expect(existsSync(join(installed, 'schemas/api.schema.json'))).toBe(true);
    expect(await readFile(join(installed, 'LICENSE'), 'utf8')).toContain('Apache License');
    const manifest = JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest.private).toBeUndefined();
    expect(manifest.license).toBe('Apache-2.0');
    expect(Object.keys(manifest.dependencies as object)).not.toContain('tsx');
  });

  it('installs neither tsx nor esbuild (`npm ls tsx esbuild` lists nothing)', async () => {
    const { stdout } = await run('npm', ['ls', 'tsx', 'esbuild', '--all'], consumer);
    expect(stdout).not.toMatch(/tsx@|esbuild@/);
    expect(stdout).toContain('(empty)');
  });

  it('`npx sluice --version` and `-V` print the package version', async () => {
    expect((await ok('npx', sluice('--version'), consumer)).stdout.trim()).toBe(version);
    expect((await ok('npx', sluice('-V'), consumer)).stdout.trim()).toBe(version);
  });

  it('validates, compiles and serves the quickstart API', async () => {
    await cp(join(repo, 'apis/qs-message-api'), join(consumer, 'apis/qs-message-api'), { recursive: true });
    const validated = await run('npx', sluice('validate', 'apis'), consumer);
    expect(validated).toMatchObject({ code: 0 });
    expect(validated.stdout.trim()).toBe('apis: 1 API valid');

    const compiled = await ok('npx', sluice('compile', 'apis', '--out', 'bundles'), consumer);
    const [bundle] = await readdir(join(consumer, 'bundles'));
    expect(bundle).toMatch(/^[0-9a-f]{64}\.json$/);
    expect(compiled.stdout).toContain(`wrote bundles/${bundle}`);

    const served = await serve(['--bundle', join('bundles', bundle), '--port', '0', '--admin-port', '0'], consumer);
    try {
      const ready = await fetch(`${served.adminUrl}/readyz`);
      expect(ready.status).toBe(200);
      // The mock endpoint produces one "mock message" a second: wait (up to ~10 s) for the first items.
      let body: { items?: Array<{ content: string }> } = {};
      let status = 0;
      for (let attempt = 0; attempt < 40 && !body.items?.length; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 250));
        const response = await fetch(`${served.url}/qs-message-api`);
        status = response.status;
        body = (await response.json()) as typeof body;
      }
      expect(status).toBe(200);
      expect(body.items?.[0]?.content).toBe('mock message');
    } finally {
      await served.stop();
    }
  });
});

describe('sluice init', { timeout: 180_000 }, () => {
  let scaffold: string;

  beforeAll(async () => {
    const init = await ok('npx', sluice('init', 'my-apis'), consumer);
    expect(init.stdout).toContain('Wrote 6 files to my-apis');
    scaffold = join(consumer, 'my-apis');
    await ok('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], scaffold);
  }, 600_000);

  it('writes a repository whose `npm run validate` and `npm run compile` work with the installed package', async () => {
    const manifest = JSON.parse(await readFile(join(scaffold, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    expect(manifest.private).toBe(true);
    expect(manifest.scripts).toMatchObject({ validate: 'sluice validate apis --format human', compile: 'sluice compile apis --out bundles' });
    expect(Object.keys(manifest.devDependencies)).toEqual(['sluice']);
    expect(manifest.dependencies).toBeUndefined();

    const validated = await run('npm', ['run', '--silent', 'validate'], scaffold);
    expect(validated).toMatchObject({ code: 0 });
    expect(validated.stdout.trim()).toBe('apis: 1 API valid');
    await ok('npm', ['run', '--silent', 'compile'], scaffold);
    expect((await readdir(join(scaffold, 'bundles'))).filter((name) => /^[0-9a-f]{64}\.json$/.test(name))).toHaveLength(1);
  });

  it('points every `$schema` at a schema file of the installed package', async () => {
    const api = join(scaffold, 'apis/qs-message-api');
    const files = (await readdir(api, { recursive: true })).filter((name) => name.endsWith('.json'));
    expect(files.sort()).toEqual(['api.json', join('plans', 'open.json')]);
    for (const name of files) {
      const { $schema } = JSON.parse(await readFile(join(api, name), 'utf8')) as { $schema: string };
      expect($schema).toMatch(/^(\.\.\/)+node_modules\/sluice\/schemas\/[a-z-]+\.schema\.json$/);
      expect(existsSync(join(dirname(join(api, name)), $schema)), `${name}: ${$schema}`).toBe(true);
    }
  });

  it('has a CI workflow whose commands pass: validate on pull requests, a release into a store on tags', async () => {
    const workflow = await readFile(join(scaffold, '.github/workflows/sluice.yml'), 'utf8');
    // The YAML's shape, checked without a YAML parser: top-level keys, spaces only, the two triggers.
    expect(workflow).not.toContain('\t');
    expect(workflow.match(/^[a-z]+:/gm)).toEqual(['name:', 'on:', 'permissions:', 'jobs:']);
    expect(workflow).toMatch(/^ {2}pull_request:$/m);
    expect(workflow).toMatch(/^ {2}push:\n {4}tags: \['v\*'\]$/m);
    const commands = [...workflow.matchAll(/^ +(?:- )?run: (npx sluice .*)$/gm)].map((match) => match[1]);
    expect(commands).toEqual([
      'npx sluice validate apis --format github',
      `npx sluice compile --ref "$GITHUB_REF_NAME" --store store --release-tags 'v*' --format github`,
      'npx sluice releases --store store',
    ]);

    // What the runner does: a repository with a tag, the commands run by a shell as in the workflow.
    const git = (...args: string[]) =>
      ok('git', args, scaffold, { GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.com', GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' });
    await git('init', '-q', '-b', 'main');
    await git('add', '-A');
    const staged = (await git('diff', '--cached', '--name-only')).stdout;
    expect(staged).not.toMatch(/^(node_modules|bundles)\//m);
    await git('commit', '-q', '-m', 'scaffold');
    await git('tag', 'v1.0.0');
    const [validate, release, releases] = commands;
    expect((await run('sh', ['-c', validate], scaffold)).code).toBe(0);
    const released = await run('sh', ['-c', release], scaffold, { GITHUB_REF_NAME: 'v1.0.0' });
    expect(released, released.stderr).toMatchObject({ code: 0 });
    expect((await ok('sh', ['-c', releases], scaffold)).stdout).toContain('v1.0.0');
    expect(existsSync(join(scaffold, 'store/current'))).toBe(true);

    // A runtime of the installed package follows that store (serve --store from dist/).
    const served = await serve(['--store', 'store', '--port', '0', '--admin-port', '0'], scaffold);
    try {
      expect((await fetch(`${served.adminUrl}/readyz`)).status).toBe(200);
      const status = (await (await fetch(`${served.adminUrl}/status`)).json()) as { source: string };
      expect(status.source).toContain('store');
    } finally {
      await served.stop();
    }
  });
});
