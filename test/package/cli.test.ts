/**
 * `sluice --version`, `sluice init` and what bin/sluice.js says when the build is missing or stale,
 * from the sources (fast; test/package/package.test.ts runs the same from the packed build).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const version = (JSON.parse(await readFile(join(repo, 'package.json'), 'utf8')) as { version: string }).version;

function node(script: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { cwd, env, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}
/** Every file under `dir`, as sorted `/`-separated relative paths. */
async function filesUnder(dir: string, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) found.push(...(await filesUnder(join(dir, entry.name), `${prefix}${entry.name}/`)));
    else found.push(`${prefix}${entry.name}`);
  }
  return found.sort();
}
const sluice = (args: string[], cwd = repo) => node(join(repo, 'bin/sluice.js'), args, cwd);

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sluice-init-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('sluice --version', { timeout: 120_000 }, () => {
  it('prints the version of package.json, as -V too, and the usage lists it', async () => {
    expect(await sluice(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect(await sluice(['-V'])).toMatchObject({ code: 0, stdout: `${version}\n` });
    expect((await sluice(['--help'])).stdout).toMatch(/sluice --version \| -V +print the version/);
    expect((await sluice(['--help'])).stdout).toContain('sluice init [DIR]');
  });
});

describe('sluice init', { timeout: 120_000 }, () => {
  it('scaffolds DIR: the quickstart API with $schema into node_modules/sluice, package.json, .gitignore, workflow, README', async () => {
    const result = await sluice(['init', 'new-apis'], work);
    expect(result.code, result.stderr).toBe(0);
    const dir = join(work, 'new-apis');
    expect(await filesUnder(dir)).toEqual(['.github/workflows/sluice.yml', '.gitignore', 'README.md', 'apis/qs-message-api/api.json', 'apis/qs-message-api/plans/open.json', 'package.json']);
    const api = JSON.parse(await readFile(join(dir, 'apis/qs-message-api/api.json'), 'utf8')) as Record<string, unknown>;
    const original = JSON.parse(await readFile(join(repo, 'apis/qs-message-api/api.json'), 'utf8')) as Record<string, unknown>;
    expect(api).toEqual({ ...original, $schema: '../../node_modules/sluice/schemas/api.schema.json' });
    const plan = JSON.parse(await readFile(join(dir, 'apis/qs-message-api/plans/open.json'), 'utf8')) as Record<string, unknown>;
    expect(plan.$schema).toBe('../../../node_modules/sluice/schemas/plan.schema.json');
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({ name: 'new-apis', private: true, devDependencies: { sluice: `^${version}` } });
    expect(await readFile(join(dir, '.gitignore'), 'utf8')).toMatch(/^node_modules\/$/m);
    expect(result.stdout).toContain('Wrote 6 files to new-apis');
    // The scaffold's definitions are valid as written.
    expect((await sluice(['validate', join(dir, 'apis')])).code).toBe(0);
  });

  it('writes what docs/guides/own-repository.md shows (package.json, a $schema line)', async () => {
    expect((await sluice(['init', 'my-apis'], work)).code).toBe(0);
    const guide = await readFile(join(repo, 'docs/guides/own-repository.md'), 'utf8');
    const [manifest, api] = [...guide.matchAll(/```(?:json|text)\n(\{[\s\S]*?)```/g)].map((match) => JSON.parse(match[1]) as Record<string, unknown>);
    expect(JSON.parse(await readFile(join(work, 'my-apis/package.json'), 'utf8'))).toEqual({ ...manifest, devDependencies: { sluice: `^${version}` } });
    expect(manifest.devDependencies).toEqual({ sluice: `^${version}` });
    expect(JSON.parse(await readFile(join(work, 'my-apis/apis/qs-message-api/api.json'), 'utf8'))).toMatchObject(api);
  });

  it('writes into the current folder by default, next to files it does not write', async () => {
    const dir = join(work, 'Existing Repo');
    await mkdir(dir);
    await writeFile(join(dir, 'NOTES.txt'), 'mine\n');
    expect((await sluice(['init'], dir)).code).toBe(0);
    expect(await readFile(join(dir, 'NOTES.txt'), 'utf8')).toBe('mine\n');
    expect(JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'))).toMatchObject({ name: 'existing-repo' });
  });

  it('refuses (exit 2, nothing written) when a file it would write exists, naming it', async () => {
    const dir = join(work, 'taken');
    await mkdir(dir);
    await writeFile(join(dir, 'package.json'), '{"name":"mine"}\n');
    const result = await sluice(['init', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`sluice init: ${dir} already has ${join(dir, 'package.json')}; nothing was written.`);
    expect(await readdir(dir)).toEqual(['package.json']);
    expect(await readFile(join(dir, 'package.json'), 'utf8')).toBe('{"name":"mine"}\n');
  });

  it('rejects a second folder, an unknown option and a target that is a file (exit 2)', async () => {
    expect(await sluice(['init', 'a', 'b'], work)).toMatchObject({ code: 2, stderr: expect.stringContaining('usage: sluice init [DIR]') });
    expect(await sluice(['init', '--force'], work)).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown option --force') });
    await writeFile(join(work, 'a-file'), '');
    expect(await sluice(['init', 'a-file'], work)).toMatchObject({ code: 2, stderr: expect.stringContaining('a-file exists and is not a folder') });
  });
});

describe('bin/sluice.js in a checkout', { timeout: 120_000 }, () => {
  const withoutSources = (): NodeJS.ProcessEnv => {
    const env = { ...process.env };
    delete env.SLUICE_FROM_SOURCES;
    return env;
  };

  it('says how to build when dist/ is missing or older than a source file (exit 2)', async () => {
    const checkout = join(work, 'checkout');
    await mkdir(join(checkout, 'cli'), { recursive: true });
    await cp(join(repo, 'bin/sluice.js'), join(checkout, 'bin/sluice.js'));
    await writeFile(join(checkout, 'cli/main.ts'), 'export async function main() { return 0; }\n');
    await writeFile(join(checkout, 'package.json'), '{ "type": "module" }\n');

    const missing = await node(join(checkout, 'bin/sluice.js'), ['--version'], checkout, withoutSources());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/dist\/cli\/main\.js is missing: this checkout is not built\. Run `npm run build`/);

    await mkdir(join(checkout, 'dist/cli'), { recursive: true });
    await writeFile(join(checkout, 'dist/cli/main.js'), 'export async function main() { console.log("built"); return 0; }\n');
    const old = new Date(Date.now() - 60_000);
    await utimes(join(checkout, 'dist/cli/main.js'), old, old);
    const stale = await node(join(checkout, 'bin/sluice.js'), ['--version'], checkout, withoutSources());
    expect(stale.code).toBe(2);
    expect(stale.stderr).toContain('dist/ is older than cli/main.ts: run `npm run build`');

    await writeFile(join(checkout, 'dist/cli/main.js'), 'export async function main() { console.log("built"); return 0; }\n');
    expect(await node(join(checkout, 'bin/sluice.js'), [], checkout, withoutSources())).toMatchObject({ code: 0, stdout: 'built\n' });
  });

  it('refuses SLUICE_FROM_SOURCES=1 where there are no sources (an installed package)', async () => {
    const installed = join(work, 'installed');
    await cp(join(repo, 'bin/sluice.js'), join(installed, 'bin/sluice.js'));
    const result = await node(join(installed, 'bin/sluice.js'), ['--version'], installed, { ...process.env, SLUICE_FROM_SOURCES: '1' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('has only the build (dist/): unset SLUICE_FROM_SOURCES');
  });
});
