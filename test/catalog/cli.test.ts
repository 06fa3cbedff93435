/** `sluice catalog` (static export) and `--catalog-path` as users run them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseServerFlags, UsageError } from '../../cli/options.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));

function sluice(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(repo, 'bin/sluice.js'), ...args], { cwd: repo, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

let work: string;
/** The quickstart (public), orders (public) and sensors (private) in one folder, as a team's repository has them. */
let examples: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sluice-catalog-'));
  examples = join(work, 'examples');
  cpSync(join(repo, 'apis/qs-message-api'), join(examples, 'qs-message-api'), { recursive: true });
  for (const id of ['orders', 'sensors']) cpSync(join(repo, 'docs/examples', id), join(examples, id), { recursive: true });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('sluice catalog APIS_DIR --out DIR', () => {
  it('writes index.html and one page per public published API, without try-it unless --gateway-url is given', async () => {
    const out = join(work, 'site');
    const { code, stdout } = await sluice('catalog', examples, '--out', out);
    expect(code).toBe(0);
    expect(stdout).toBe(`wrote ${join(out, 'index.html')} and 2 API pages\n`);
    // sensors is private: never in a static site
    expect(readdirSync(out).sort()).toEqual(['.sluice-catalog.json', 'index.html', 'orders', 'qs-message-api']);
    const index = readFileSync(join(out, 'index.html'), 'utf8');
    expect(index).toContain('<a href="./qs-message-api/index.html">Quickstart message API</a>');
    expect(index).not.toContain('name="credential"');
    expect(index).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;self&#39;; script-src &#39;nonce-/);
    const page = readFileSync(join(out, 'qs-message-api', 'index.html'), 'utf8');
    expect(page).toContain('curl &#39;http://localhost:8082/qs-message-api?limit=10&#39;');
    expect(page).not.toContain('id="try-it"');
    expect(page).not.toContain('<script');
    // the AsyncAPI document beside the page, linked from it
    expect(page).toContain('<a href="./asyncapi.json">AsyncAPI document</a>');
    const document = JSON.parse(readFileSync(join(out, 'qs-message-api', 'asyncapi.json'), 'utf8')) as { asyncapi: string; info: { title: string } };
    expect(document).toMatchObject({ asyncapi: '3.0.0', info: { title: 'Quickstart message API' } });
  });

  it('with --gateway-url, names that gateway in the examples and streams from it in try-it', async () => {
    const out = join(work, 'site-live');
    const { code } = await sluice('catalog', 'apis', '--out', out, '--gateway-url', 'https://gw.example.com');
    expect(code).toBe(0);
    const page = readFileSync(join(out, 'qs-message-api', 'index.html'), 'utf8');
    expect(page).toContain('new WebSocket(&#39;wss://gw.example.com/qs-message-api&#39;)');
    expect(page).toContain('id="try-it" data-kind="websocket" data-url="https://gw.example.com/qs-message-api"');
    expect(page).toContain('connect-src &#39;self&#39; https://gw.example.com wss://gw.example.com');
    expect(page).not.toContain('frame-ancestors');
  });

  it('removes the page of an API no longer shown on the next export, and refuses a folder that is not a catalog', async () => {
    const apis = join(work, 'apis');
    cpSync(examples, apis, { recursive: true });
    const out = join(work, 'site-again');
    expect((await sluice('catalog', apis, '--out', out)).code).toBe(0);
    expect(existsSync(join(out, 'orders', 'index.html'))).toBe(true);
    const file = join(apis, 'orders', 'api.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"visibility": "public"', '"visibility": "private"'));
    writeFileSync(join(out, 'orders', 'notes.txt'), 'not ours');
    expect((await sluice('catalog', apis, '--out', out)).code).toBe(0);
    expect(readdirSync(join(out, 'orders'))).toEqual(['notes.txt']);
    expect(readFileSync(join(out, 'index.html'), 'utf8')).not.toContain('Orders stream');
    const other = join(work, 'not-a-catalog');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.html'), 'x');
    const refused = await sluice('catalog', apis, '--out', other);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is not empty and holds no .sluice-catalog.json');
  });

  it('exits 1 with the diagnostics when the folder does not compile, 2 on a usage error', async () => {
    const bad = await sluice('catalog', 'test/fixtures/invalid/catalog-context-path/apis', '--out', join(work, 'never'));
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('CONTEXT_PATH_RESERVED');
    expect(existsSync(join(work, 'never'))).toBe(false);
    expect((await sluice('catalog', 'apis')).code).toBe(2);
    const url = await sluice('catalog', 'apis', '--out', join(work, 'x'), '--gateway-url', 'https://gw.example.com/path');
    expect(url.code).toBe(2);
    expect(url.stderr).toContain('--gateway-url must be the gateway\'s origin');
  });
});

describe('--catalog-path', () => {
  it('defaults to /catalog, takes "" to turn the catalog off, and refuses what is not a path', () => {
    expect(parseServerFlags([], []).server.catalogPath).toBe('/catalog');
    expect(parseServerFlags(['--catalog-path', ''], []).server.catalogPath).toBe('');
    expect(parseServerFlags(['--catalog-path=/dev/apis/'], []).server.catalogPath).toBe('/dev/apis');
    for (const bad of ['catalog', '/a/../b', '/a b']) expect(() => parseServerFlags(['--catalog-path', bad], [])).toThrow(UsageError);
    expect(() => parseServerFlags(['--port', ''], [])).toThrow(/--port needs a value/);
  });
});
