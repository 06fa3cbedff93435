import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Gateway } from '../../runtime/gateway.ts';
import { dirSource } from '../../runtime/sources/dir.ts';
import { fileSource } from '../../runtime/sources/file.ts';
import { workingTreeSource } from '../../cli/working-tree.ts';
import { makeBundle } from '../support/bundles.ts';
import { connect, gatewayWith, waitFor, within, wsUrl } from '../support/harness.ts';

const root = mkdtempSync(join(tmpdir(), 'sluice-sources-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

/** Writes like the compiler does: temp file + rename. */
function writeAtomically(path: string, content: string, mtime?: Date): void {
  const temp = `${path}.tmp`;
  writeFileSync(temp, content);
  if (mtime) utimesSync(temp, mtime, mtime);
  renameSync(temp, path);
}

const served = () => gateway!.routers.current?.bundleId;

/** A dev-mode source on a copy of the quickstart API under `root/folder`; `printed` collects its diagnostics. */
function devTree(folder: string) {
  const apis = join(root, folder);
  cpSync('apis/qs-message-api', join(apis, 'qs-message-api'), { recursive: true });
  const apiFile = join(apis, 'qs-message-api', 'api.json');
  const original = readFileSync(apiFile, 'utf8');
  const printed: string[] = [];
  const source = workingTreeSource(apis, { print: (text) => printed.push(text), debounceMs: 50 });
  return { apiFile, original, printed, source };
}

describe('bundle sources', () => {
  it('--bundles DIR serves the newest bundle and swaps when a newer one appears', async () => {
    const dir = join(root, 'bundles');
    mkdirSync(dir);
    const one = makeBundle({ a: {} });
    const two = makeBundle({ a: {}, b: {} });
    writeAtomically(join(dir, `${one.id}.json`), JSON.stringify(one), new Date(Date.now() - 60_000));
    writeFileSync(join(dir, '.ignored.json'), '{');
    gateway = await gatewayWith(undefined, { source: dirSource(dir) });
    expect(served()).toBe(one.id);
    writeAtomically(join(dir, `${two.id}.json`), JSON.stringify(two));
    await waitFor(() => served() === two.id, 5000, 'the newer bundle to be served');
    expect((await fetch(`${gateway.url}/b?limit=1`)).status).toBe(200);
    // A newest file that is not a bundle keeps the last good one.
    writeAtomically(join(dir, 'broken.json'), '{"formatVersion": 1}');
    await waitFor(() => gateway!.routers.lastError !== undefined, 5000, 'the broken bundle to be refused');
    expect(served()).toBe(two.id);
    const status = await (await fetch(`${gateway.adminUrl}/status`)).json();
    expect(status.source).toBe(`dir ${dir}`);
    expect(status.lastError.message).toMatch(/invalid bundle/);
  });

  it('--bundle FILE serves the file and re-reads it when it is replaced', async () => {
    const file = join(root, 'bundle.json');
    const one = makeBundle({ a: {} });
    const two = makeBundle({ c: {} });
    writeAtomically(file, JSON.stringify(one));
    gateway = await gatewayWith(undefined, { source: fileSource(file) });
    expect(served()).toBe(one.id);
    writeAtomically(file, JSON.stringify(two));
    await waitFor(() => served() === two.id, 5000, 'the replaced bundle');
    expect((await fetch(`${gateway.url}/a`)).status).toBe(404);
  });

  it('dev --env applies the overlay on every compile: the bundle records the environment and serves the patched API', async () => {
    const apis = join(root, 'apis-env');
    cpSync('apis/qs-message-api', join(apis, 'qs-message-api'), { recursive: true });
    mkdirSync(join(apis, 'environments'));
    writeFileSync(join(apis, 'environments', 'staging.json'), JSON.stringify({ apis: { 'qs-message-api': { contextPaths: ['/staging-messages'] } } }));
    gateway = await gatewayWith(undefined, { source: workingTreeSource(apis, { print: () => undefined, environment: 'staging' }) });
    expect(gateway.routers.current?.bundle.environment).toBe('staging');
    expect((await fetch(`${gateway.url}/staging-messages?limit=1`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/qs-message-api?limit=1`)).status).toBe(404);
  });

  it('dev mode recompiles the working tree on save; a file that does not validate keeps the last good bundle', async () => {
    const { apiFile, original, printed, source } = devTree('apis');
    gateway = await gatewayWith(undefined, { source });
    const first = served();
    expect(first).toBeDefined();
    const client = connect(wsUrl(gateway, '/qs-message-api'));
    await within(client.opened, 2000, 'the handshake');

    writeFileSync(apiFile, original.replace('"state": "started"', '"state": "bogus"'));
    await waitFor(() => printed.length > 0, 5000, 'the diagnostics');
    expect(printed.join('\n')).toMatch(/api\.json:\d+:\d+/);
    expect(served()).toBe(first);
    expect(client.ws.readyState).toBe(client.ws.OPEN);

    writeFileSync(apiFile, original.replace('"state": "started"', '"state": "stopped"'));
    await waitFor(() => served() !== first, 5000, 'the stopped API to deploy');
    expect((await within(client.closed, 2000, 'the close')).code).toBe(1012);
    expect((await fetch(`${gateway.url}/qs-message-api`)).status).toBe(404);

    writeFileSync(apiFile, original);
    await waitFor(() => served() === first, 5000, 'the original bundle again');
    expect((await fetch(`${gateway.url}/qs-message-api?limit=1`)).status).toBe(200);
  }, 20_000);

  it('dev mode says when a broken tree compiles again, even when the last good bundle was already the same', async () => {
    const { apiFile, original, printed, source } = devTree('apis-again');
    gateway = await gatewayWith(undefined, { source });
    const first = served();
    writeFileSync(apiFile, original.replace('"state": "started",', '"state": "started"'));
    await waitFor(() => printed.some((text) => text.includes('JSON_SYNTAX')), 5000, 'the diagnostics');
    writeFileSync(apiFile, original);
    await waitFor(() => printed.some((text) => text.includes('compiles again')), 5000, 'the all-clear');
    expect(printed.at(-1)).toContain(first!.slice(0, 12));
    expect(served()).toBe(first);
  }, 20_000);
});
