/**
 * `serve --store https://…` behind a store that wants a bearer token: the token comes from
 * SLUICE_STORE_TOKEN or --store-token-file (never argv). Without it the runtime says which to
 * set; with a wrong one, that the store refused it; with the right one, it serves the release.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { timingSafeEqual, createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { COMPILER_VERSION } from '../../compiler/index.ts';
import { Store } from '../../compiler/store.ts';
import { waitFor } from '../support/harness.ts';
import { apiFolder, compileFiles, mockApi } from './repo.ts';
import { serveStore, type Served } from './cli.ts';

const TOKEN = 'store-token-7f3a9c';
const digest = (value: string) => createHash('sha256').update(value).digest();
let storeDir: string;
let server: http.Server;
let base: string;
const authorizations: (string | undefined)[] = [];
const running: Served[] = [];

beforeAll(async () => {
  storeDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-store-token-'));
  const bundle = compileFiles(apiFolder('orders', mockApi('orders')), { tag: 'v1' });
  await new Store(storeDir).release(bundle, { tag: 'v1', commit: 'c'.repeat(40), compilerVersion: COMPILER_VERSION }, () => []);
  server = http.createServer((req, res) => {
    authorizations.push(req.headers.authorization);
    const given = req.headers.authorization ?? '';
    if (!timingSafeEqual(digest(given), digest(`Bearer ${TOKEN}`))) return void res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
    const file = path.join(storeDir, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    try {
      statSync(file);
      res.writeHead(200, { 'content-type': 'application/json' }).end(readFileSync(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await Promise.all(running.map((r) => r.stop()));
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(storeDir, { recursive: true, force: true });
});

async function start(extra: string[], env: Record<string, string>): Promise<Served> {
  const served = await serveStore(base, 20_000, extra, env);
  running.push(served);
  return served;
}
const readyz = async (served: Served) => (await fetch(`${served.adminUrl}/readyz`)).status;

it('without a token: a clear error naming SLUICE_STORE_TOKEN and --store-token-file, not ready', async () => {
  const served = await start([], { SLUICE_STORE_TOKEN: '' });
  await waitFor(() => served.output().includes('answered 401'), 10_000, 'the 401 error');
  expect(served.output()).toContain('the store wants a token; give it in SLUICE_STORE_TOKEN or --store-token-file FILE');
  expect(await readyz(served)).toBe(503);
});

it('with a wrong token: says the store refused it', async () => {
  const served = await start([], { SLUICE_STORE_TOKEN: 'wrong-token' });
  await waitFor(() => served.output().includes('answered 401'), 10_000, 'the 401 error');
  expect(served.output()).toContain('the store refused the token; check SLUICE_STORE_TOKEN / --store-token-file');
  expect(served.output()).not.toContain('wrong-token');
});

it('SLUICE_STORE_TOKEN: sent as Authorization: Bearer, the release is served', async () => {
  const served = await start([], { SLUICE_STORE_TOKEN: TOKEN });
  await waitFor(() => authorizations.includes(`Bearer ${TOKEN}`), 10_000, 'an authorized request');
  for (let i = 0; (await readyz(served)) !== 200; i++) {
    if (i > 100) throw new Error(`not ready:\n${served.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  expect((await served.status()).release).toMatchObject({ tag: 'v1' });
  expect(served.output()).not.toContain(TOKEN);
});

it('--store-token-file FILE (a mounted Secret, trailing newline ignored) wins over SLUICE_STORE_TOKEN', async () => {
  const file = path.join(storeDir, '..', `token-${process.pid}`);
  writeFileSync(file, `${TOKEN}\n`);
  try {
    const served = await start(['--store-token-file', file], { SLUICE_STORE_TOKEN: 'wrong-token' });
    for (let i = 0; (await readyz(served)) !== 200; i++) {
      if (i > 100) throw new Error(`not ready:\n${served.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await served.status()).bundleId).toMatch(/^[0-9a-f]{64}$/);
  } finally {
    rmSync(file, { force: true });
  }
});
