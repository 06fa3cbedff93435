/** The `sluice` command as users run it: `node bin/sluice.js …`, exit codes 0/1/2 and output formats. */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(repo, 'test/fixtures/invalid');

function sluice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return sluiceIn(repo, ...args);
}

function sluiceIn(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repo, 'bin/sluice.js'), ...args], { cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sluice-cli-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('sluice validate', () => {
  it('exits 0 on the examples and prints the summary', async () => {
    const { code, stdout } = await sluice('validate', 'apis');
    expect(code).toBe(0);
    expect(stdout.trim().split('\n').at(-1)).toBe('apis: 1 API valid');
  });

  it('exits 1 with path:line:col CODE message per problem, then "N errors in M files"', async () => {
    const dir = join(fixtures, 'overlapping-context-path/apis');
    const { code, stdout } = await sluice('validate', dir);
    expect(code).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(new RegExp(`^${dir}/a/api\\.json:3:20 CONTEXT_PATH_OVERLAP .*/a/b/`));
    expect(lines[1]).toMatch(new RegExp(`^${dir}/b/api\\.json:3:20 CONTEXT_PATH_OVERLAP .*/a/`));
    expect(lines[2]).toBe('2 errors in 2 files');
  });

  it('reports a missing comma at its real line and column', async () => {
    const { code, stdout } = await sluice('validate', 'test/fixtures/invalid/missing-comma/apis/');
    expect(code).toBe(1);
    expect(stdout).toMatch(/^test\/fixtures\/invalid\/missing-comma\/apis\/orders\/plans\/open\.json:4:3 JSON_SYNTAX /m);
  });

  it('--format github prints workflow annotations', async () => {
    const { code, stdout } = await sluice('validate', 'test/fixtures/invalid/unknown-entrypoint-type/apis', '--format', 'github');
    expect(code).toBe(1);
    expect(stdout.split('\n')[0]).toMatch(
      /^::error file=test\/fixtures\/invalid\/unknown-entrypoint-type\/apis\/orders\/api\.json,line=5,col=\d+::SCHEMA_UNKNOWN_TYPE unknown entrypoint type "http-gett"/,
    );
  });

  it('--format json prints one JSON document', async () => {
    const { code, stdout } = await sluice('validate', 'test/fixtures/invalid/api-key-not-hash/apis', '--format=json');
    expect(code).toBe(1);
    const document = JSON.parse(stdout);
    expect(document.ok).toBe(false);
    expect(document.diagnostics).toEqual([expect.objectContaining({ code: 'API_KEY_NOT_HASH', line: 4, file: 'test/fixtures/invalid/api-key-not-hash/apis/orders/subscriptions/acme.json' })]);
  });

  it('--profile production refuses keyless plans', async () => {
    expect((await sluice('validate', 'apis', '--profile', 'production')).code).toBe(1);
  });

  it.each([
    [['validate', '--bogus']],
    [['validate', 'no/such/folder']],
    [['validate', 'apis', '--format', 'xml']],
    [['validate', 'apis', 'apis']],
    [['compile', 'apis']],
    [['compile', 'apis', '--out']],
    [['keygen', 'extra']],
  ])('exits 2 on a usage error: %j', async (args) => {
    const { code, stderr, stdout } = await sluice(...args);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^sluice (validate|compile|keygen)/);
    expect(stdout).toBe('');
  });
});

describe('sluice | head', () => {
  it('a reader that stops reading (EPIPE) ends the command quietly, without a stack trace', async () => {
    const { spawn } = await import('node:child_process');
    const { mkdir } = await import('node:fs/promises');
    const dir = join(work, 'many-errors');
    await mkdir(dir, { recursive: true });
    await Promise.all(Array.from({ length: 3000 }, (_, i) => writeFile(join(dir, `stray-file-number-${i}.txt`), '')));
    const child = spawn(process.execPath, [join(repo, 'bin/sluice.js'), 'validate', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).not.toBeNull();
  });
});

describe('sluice COMMAND --help', () => {
  it.each([['validate'], ['compile'], ['keygen'], ['diff'], ['releases'], ['rollback']])('%s --help prints its usage on stdout and exits 0', async (command) => {
    const { code, stdout, stderr } = await sluice(command, '--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^usage: sluice ${command} `));
    expect(stderr).toBe('');
  });

  it('-h too, and the usage of keygen names --plan', async () => {
    const { code, stdout } = await sluice('keygen', '-h');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: sluice keygen \[--plan KEY\]/);
  });
});

describe('sluice compile', () => {
  it('writes DIR/<id>.json, prints the id last; the same id twice and after reformatting', async () => {
    const out = join(work, 'bundles');
    const first = await sluice('compile', 'apis', '--out', out);
    expect(first.code).toBe(0);
    const id = first.stdout.trim().split('\n').at(-1)!;
    expect(id).toMatch(/^[0-9a-f]{64}$/);
    expect(await readdir(out)).toEqual([`${id}.json`]);
    expect(JSON.parse(await readFile(join(out, `${id}.json`), 'utf8')).id).toBe(id);

    const second = await sluice('compile', 'apis', '--out', out);
    expect(second.stdout.trim().split('\n').at(-1)).toBe(id);

    const copy = join(work, 'apis');
    await cp(join(repo, 'apis'), copy, { recursive: true });
    const file = join(copy, 'qs-message-api/api.json');
    await writeFile(file, JSON.stringify(JSON.parse(await readFile(file, 'utf8')), null, 8));
    const third = await sluice('compile', copy, '--out', out);
    expect(third.stdout.trim().split('\n').at(-1)).toBe(id);
  });

  it('exits 1 and writes nothing when the tree has errors', async () => {
    const out = join(work, 'none');
    const { code, stdout } = await sluice('compile', 'test/fixtures/invalid/inline-password/apis', '--out', out);
    expect(code).toBe(1);
    expect(stdout).toMatch(/INLINE_SECRET/);
    await expect(readdir(out)).rejects.toThrow();
  });
});

describe('sluice keygen', () => {
  it('keys never start with "-" or "_" (they would read as options on a command line)', async () => {
    const { generateApiKey } = await import('../../cli/keygen.ts');
    for (let i = 0; i < 2000; i++) expect(generateApiKey().key).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{42}$/);
  });

  it('prints a 32-byte base64url key and its sha256, and a subscription that validates', async () => {
    const { code, stdout } = await sluice('keygen', '--plan', 'gold');
    expect(code).toBe(0);
    const key = /^key: +([A-Za-z0-9_-]{43})$/m.exec(stdout)![1];
    const hash = /^sha256: +([0-9a-f]{64})$/m.exec(stdout)![1];
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(key).digest('hex')).toBe(hash);
    const snippet = JSON.parse(stdout.slice(stdout.indexOf('{')));
    expect(snippet).toMatchObject({ plan: 'gold', apiKeys: [{ hash }] });
    expect(stdout.slice(stdout.indexOf('{'))).not.toContain(key);
  });

  it('points $schema from apis/<api>/subscriptions/ to the installed package, or to schemas/ in sluice\'s own checkout', async () => {
    const schemaOf = (stdout: string) => JSON.parse(stdout.slice(stdout.indexOf('{'))).$schema as string;
    const project = join(work, 'project');
    await mkdir(project, { recursive: true });
    const installed = await sluiceIn(project, 'keygen', '--plan', 'gold');
    expect(installed.code).toBe(0);
    expect(schemaOf(installed.stdout)).toBe('../../../node_modules/sluice/schemas/subscription.schema.json');
    const own = schemaOf((await sluice('keygen')).stdout);
    expect(own).toBe('../../../schemas/subscription.schema.json');
    await readFile(join(repo, 'apis/any/subscriptions', own)); // resolves to the schema in this checkout
  });
});
