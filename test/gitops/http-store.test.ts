/**
 * Several runtimes follow one store published by a plain static file server (node:http here,
 * with ETag / If-None-Match like nginx or S3): both switch to a new release; a corrupted or
 * truncated bundle is refused and the last good one keeps serving; a fixed upload is picked up.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPILER_VERSION } from '../../compiler/index.ts';
import { Store, writeAtomic } from '../../compiler/store.ts';
import type { Gateway } from '../../runtime/gateway.ts';
import { storeSource } from '../../runtime/sources/store.ts';
import { gatewayWith, waitFor } from '../support/harness.ts';
import { apiFolder, compileFiles, mockApi } from './repo.ts';

let storeDir: string;
let server: http.Server;
let base: string;
const requests: { url: string; status: number }[] = [];
const gateways: Gateway[] = [];

/** A static file server for storeDir: ETag from size+mtime, 304 on If-None-Match. */
function staticServer(root: string): http.Server {
  return http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    let status = 404;
    try {
      const info = statSync(file);
      const etag = `"${info.size}-${info.mtimeMs}"`;
      if (req.headers['if-none-match'] === etag) {
        status = 304;
        res.writeHead(304, { etag }).end();
      } else {
        status = 200;
        res.writeHead(200, { etag, 'content-type': 'application/json' }).end(readFileSync(file));
      }
    } catch {
      res.writeHead(404).end();
    }
    requests.push({ url: req.url!, status });
  });
}

const v = (n: number) => compileFiles({ ...apiFolder('orders', mockApi('orders', { version: `${n}.0` })), ...apiFolder('stable', mockApi('stable')) }, { tag: `v${n}` });
const info = (tag: string) => ({ tag, commit: 'c'.repeat(40), compilerVersion: COMPILER_VERSION });
const served = (g: Gateway) => g.routers.current?.bundleId;

beforeAll(async () => {
  storeDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-http-store-'));
  await new Store(storeDir).release(v(1), info('v1'), () => []);
  server = staticServer(storeDir);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(storeDir, { recursive: true, force: true });
});

describe('store over http(s)', () => {
  it('two runtimes follow one store and both switch to a new release', async () => {
    for (let i = 0; i < 2; i++) gateways.push(await gatewayWith(undefined, { source: storeSource(base, { pollMs: 200 }) }));
    const first = v(1).id;
    expect(gateways.map(served)).toEqual([first, first]);
    const statusBody = await (await fetch(`${gateways[0].adminUrl}/status`)).json();
    expect(statusBody.release).toMatchObject({ tag: 'v1', deployment: 1, store: base.replace(/\/$/, '') });

    // Idle polls are conditional: the pointer is answered 304.
    const before = requests.length;
    await waitFor(() => requests.slice(before).filter((r) => r.status === 304).length >= 4, 3000, 'conditional polls');
    expect(requests.slice(before).every((r) => r.url === '/current')).toBe(true);

    const second = v(2);
    await new Store(storeDir).release(second, info('v2'), () => []);
    await waitFor(() => gateways.every((g) => served(g) === second.id), 2000, 'both runtimes to serve v2');
    const after = await (await fetch(`${gateways[1].adminUrl}/status`)).json();
    expect(after.release).toMatchObject({ tag: 'v2', deployment: 2, bundleId: second.id });
  });

  it('refuses a corrupted or truncated bundle, keeps serving the last good one, and takes the fixed upload', async () => {
    const good = v(2).id;
    const third = v(3);
    const text = `${JSON.stringify(third)}\n`;
    const bundleFile = path.join(storeDir, 'bundles', `${third.id}.json`);
    // A publisher that uploaded a damaged file: the content no longer hashes to its name.
    writeFileSync(bundleFile, text.replace('"3.0"', '"3.1"'));
    const pointer = { id: third.id, tag: 'v3', commit: 'd'.repeat(40), deployment: 3, kind: 'release', time: new Date().toISOString() };
    await writeAtomic(path.join(storeDir, 'current'), `${JSON.stringify(pointer)}\n`);
    const fetched = () => requests.filter((r) => r.url === `/bundles/${third.id}.json`).length;
    await waitFor(() => fetched() >= 4, 3000, 'both runtimes to fetch the corrupted bundle, refuse it and retry');
    expect(gateways.map(served)).toEqual([good, good]);
    const status = await (await fetch(`${gateways[0].adminUrl}/status`)).json();
    expect(status.release).toMatchObject({ tag: 'v2', deployment: 2 });
    const answer = await fetch(`${gateways[0].url}/stable?limit=1`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    expect(answer.status).toBe(200); // still serving

    // Truncated (an interrupted upload): refused too, retried on later polls.
    writeFileSync(bundleFile, text.slice(0, Math.floor(text.length / 2)));
    const seen = fetched();
    await waitFor(() => fetched() >= seen + 2, 3000, 'retries of the truncated bundle');
    expect(gateways.map(served)).toEqual([good, good]);

    // The complete file arrives: both switch.
    writeFileSync(bundleFile, text);
    await waitFor(() => gateways.every((g) => served(g) === third.id), 3000, 'both runtimes to serve the fixed v3');
  });

  it('bounds the download: a bundle larger than allowed is refused', async () => {
    const source = storeSource(base, { pollMs: 100_000, maxBundleBytes: 200 });
    const small = await gatewayWith(undefined, { source });
    gateways.push(small);
    expect(served(small)).toBeUndefined();
    expect(await (await fetch(`${small.adminUrl}/readyz`)).json()).toMatchObject({ ready: false });
  });

  it('a folder store: a corrupted bundle is refused, the last good keeps serving, the repaired file is taken', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-folder-store-'));
    try {
      const store = new Store(dir);
      await store.release(v(1), info('v1'), () => []);
      const local = await gatewayWith(undefined, { source: storeSource(dir, { pollMs: 100 }) });
      gateways.push(local);
      expect(served(local)).toBe(v(1).id);
      const next = v(4);
      const text = `${JSON.stringify(next)}\n`;
      writeFileSync(path.join(dir, 'bundles', `${next.id}.json`), text.replace('"4.0"', '"4.5"'));
      await writeAtomic(path.join(dir, 'current'), `${JSON.stringify({ id: next.id, tag: 'v4', commit: 'e'.repeat(40), deployment: 2, kind: 'release', time: new Date().toISOString() })}\n`);
      await new Promise((r) => setTimeout(r, 600)); // a non-event: several polls
      expect(served(local)).toBe(v(1).id);
      writeFileSync(path.join(dir, 'bundles', `${next.id}.json`), text);
      await waitFor(() => served(local) === next.id, 2000, 'the repaired bundle to be served');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
