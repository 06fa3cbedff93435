/**
 * Every fenced block in README.md and docs/ that claims to work is exercised, following the
 * convention written down in docs/README.md ("Code blocks"):
 * - every fence names its language (```text for output and illustrations, not checked);
 * - ```json parses; with `<!-- schema: NAME -->` before it, or as an API-folder file (its `$schema`
 *   names api, plan or subscription), it validates against schemas/NAME.schema.json;
 * - ```sh: every `sluice` command is real and takes the flags written, every `npm` script exists,
 *   every repository file a line runs exists (test/docs/shell.ts);
 * - ```sh with `<!-- run -->` before it runs with bash in a temporary copy and exits 0.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sluiceSchemas, SCHEMA_BASE } from '../../core/ajv.ts';
import { blocks, markdownFiles, ROOT, type Block } from './markdown.ts';
import { cliFlags, commands, problems } from './shell.ts';

const all: Block[] = markdownFiles().flatMap(blocks);
const where = (b: Block) => `${b.file}:${b.line}`;
const ajv = sluiceSchemas('definitions');

/** The schema a ```json block must match, if any: its marker, else its `$schema` file name. */
function schemaOf(block: Block, document: unknown): string | undefined {
  if (block.marker?.kind === 'schema') return block.marker.name;
  const declared = (document as { $schema?: unknown } | null)?.$schema;
  const m = typeof declared === 'string' ? /(?:^|\/)(api|plan|subscription)\.schema\.json$/.exec(declared) : null;
  return m?.[1];
}

describe('code blocks in README.md and docs/', () => {
  it('finds blocks of each kind, markers included', () => {
    expect(all.filter((b) => b.lang === 'json').length).toBeGreaterThan(20);
    expect(all.filter((b) => b.lang === 'sh').length).toBeGreaterThan(10);
    expect(all.filter((b) => b.marker?.kind === 'schema').length).toBeGreaterThan(15);
    expect(all.filter((b) => b.marker?.kind === 'run').length).toBeGreaterThan(2);
  });

  it('every fence names its language (```text for output and illustrations)', () => {
    expect(all.filter((b) => b.lang === '').map(where)).toEqual([]);
  });

  it('a marker sits only where it means something (schema on json, run on sh)', () => {
    const misplaced = all.filter((b) => (b.marker?.kind === 'schema' && b.lang !== 'json') || (b.marker?.kind === 'run' && b.lang !== 'sh'));
    expect(misplaced.map(where)).toEqual([]);
  });

  const json = all.filter((b) => b.lang === 'json');
  it.each(json.map((b) => [where(b), b] as const))('```json %s parses and matches its schema', (_, block) => {
    let document: unknown;
    expect(() => (document = JSON.parse(block.text)), `${where(block)} is not JSON`).not.toThrow();
    const name = schemaOf(block, document);
    if (name === undefined) return;
    const validate = ajv.getSchema(`${SCHEMA_BASE}${name}.schema.json`);
    expect(validate, `${where(block)}: no schema schemas/${name}.schema.json`).toBeDefined();
    const ok = validate!(structuredClone(document));
    expect(ok ? [] : ajv.errorsText(validate!.errors).split(', '), `${where(block)} against schemas/${name}.schema.json`).toEqual([]);
  });

  const flags = cliFlags();
  const sh = all.filter((b) => b.lang === 'sh');
  it.each(sh.map((b) => [where(b), b] as const))('```sh %s: commands, flags, scripts and files exist', (_, block) => {
    expect(commands(block.text).flatMap((words) => problems(words, flags))).toEqual([]);
  });
});

describe('the shell checks can fail', () => {
  it('reads commands through quotes, pipes, continuations and comments', () => {
    expect(commands("FOO=1 npx sluice validate apis --format json | jq . # a comment --bogus\nnpm start -- \\\n  --port 9082 && echo 'a # b'")).toEqual([
      ['FOO=1', 'npx', 'sluice', 'validate', 'apis', '--format', 'json'],
      ['jq', '.'],
      ['npm', 'start', '--', '--port', '9082'],
      ['echo', 'a # b'],
    ]);
  });

  it('refuses an unknown command, an unknown flag, a missing script and a missing file', () => {
    expect(problems(['npx', 'sluice', 'deploy'])).toEqual([expect.stringContaining('sluice deploy: no such command')]);
    expect(problems(['npx', 'sluice', 'validate', '--out', 'x'])).toEqual([expect.stringContaining('unknown flag --out')]);
    expect(problems(['npm', 'start', '--', '--bundle', 'x'])).toEqual([expect.stringContaining('sluice dev: unknown flag --bundle')]);
    expect(problems(['npm', 'run', 'no-such-script'])).toEqual([expect.stringContaining('no script "no-such-script"')]);
    expect(problems(['node', 'bin/run-ts.js', 'test/support/nope.ts'])).toEqual(['test/support/nope.ts does not exist']);
    expect(problems(['npx', 'sluice', 'serve', '--store', 'DIR', '--trusted-proxies=10.0.0.0/8', '--port', '1'])).toEqual([]);
  });
});

describe('```sh blocks marked <!-- run -->', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const prelude = [
    'set -euo pipefail',
    // `npx sluice` and `sluice` run this checkout; nothing is fetched from a registry.
    `npx() { if [ "$1" = sluice ]; then shift; node ${JSON.stringify(join(ROOT, 'bin/sluice.js'))} "$@"; else echo "npx $1: only npx sluice runs in a docs block" >&2; return 1; fi; }`,
    `sluice() { node ${JSON.stringify(join(ROOT, 'bin/sluice.js'))} "$@"; }`,
  ].join('\n');

  const run = all.filter((b) => b.marker?.kind === 'run');
  it.each(run.map((b) => [where(b), b] as const))('%s exits 0 in a temporary copy', (_, block) => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-docs-'));
    dirs.push(dir);
    for (const folder of ['apis', 'docs/examples', 'schemas']) cpSync(join(ROOT, folder), join(dir, folder), { recursive: true });
    const env = { ...process.env, GIT_AUTHOR_NAME: 'docs', GIT_AUTHOR_EMAIL: 'docs@example.com', GIT_COMMITTER_NAME: 'docs', GIT_COMMITTER_EMAIL: 'docs@example.com', GIT_CONFIG_NOSYSTEM: '1' };
    try {
      execFileSync('bash', ['-c', `${prelude}\n${block.text}`], { cwd: dir, env, stdio: 'pipe', timeout: 60_000 });
    } catch (error) {
      const e = error as { status?: number; stdout?: Buffer; stderr?: Buffer };
      expect.fail(`${where(block)} exited ${e.status}:\n${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`);
    }
  }, 90_000);
});
