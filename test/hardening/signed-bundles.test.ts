/**
 * Signed bundles through the real CLI: `keygen --signing`, `compile --ref TAG --store --sign-key`,
 * and `serve --store URL --trust-key` as a child process following a store published by a plain
 * static file server. A bundle edited after signing (its id recomputed, so every integrity check
 * passes), an unsigned one and one signed by an untrusted key are refused with their codes while
 * the last good one keeps serving; two trust keys (rotation) are both accepted.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bundleId, canonicalJson } from '../../compiler/bundle.ts';
import { writeAtomic } from '../../compiler/store.ts';
import { scrape } from '../observability/prometheus.ts';
import { serveStore, sluice, type Served } from '../gitops/cli.ts';
import { apiFolder, mockApi, TestRepo } from '../gitops/repo.ts';

let tmp: string;
let repo: TestRepo;
let storeDir: string;
let server: http.Server;
let base: string;
// Real child processes (tsx start-up: seconds each on a loaded machine).
vi.setConfig({ testTimeout: 90_000 });

const running: Served[] = [];
const keys: Record<'a' | 'b' | 'c', { file: string; pub: string }> = {} as never;

function staticServer(root: string): http.Server {
  return http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    try {
      const info = statSync(file);
      const etag = `"${info.size}-${info.mtimeMs}"`;
      if (req.headers['if-none-match'] === etag) res.writeHead(304, { etag }).end();
      else res.writeHead(200, { etag }).end(readFileSync(file));
    } catch {
      res.writeHead(404).end();
    }
  });
}

/** Commit version `n` of the orders API, tag it `vN` and release it (signed with `key`, or not). */
async function release(n: number, key?: string, env: Record<string, string> = {}) {
  repo.write(apiFolder('orders', mockApi('orders', { version: `${n}.0` })));
  repo.commit(`v${n}`);
  repo.tag(`v${n}`);
  const args = ['compile', '--ref', `v${n}`, '--repo', repo.dir, '--store', storeDir, ...(key ? ['--sign-key', key] : [])];
  const result = await sluice(args, { env });
  expect(result.code, result.stdout + result.stderr).toBe(0);
  return JSON.parse(readFileSync(path.join(storeDir, 'current'), 'utf8')).id as string;
}

const servedId = async (s: Served) => (await s.status()).bundleId;
const failedSwaps = async (s: Served, reason: string) => (await scrape(s.adminUrl)).value('sluice_swaps_total', { result: 'failed', reason });

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'sluice-signed-'));
  storeDir = path.join(tmp, 'store');
  for (const name of ['a', 'b', 'c'] as const) {
    const file = path.join(tmp, `${name}.key`);
    const made = await sluice(['keygen', '--signing', '--out', file]);
    expect(made.code, made.stderr).toBe(0);
    const pub = /^public key: (\S+)$/m.exec(made.stdout)![1];
    keys[name] = { file, pub };
  }
  repo = new TestRepo('sluice-signed-repo-');
  server = staticServer(storeDir);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  repo?.remove();
  rmSync(tmp, { recursive: true, force: true });
});

describe('keygen --signing', () => {
  it('writes the private key with mode 0600, prints the public key, refuses to overwrite and never prints the private key unasked', async () => {
    const { file, pub } = keys.a;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(readFileSync(`${file}.pub`, 'utf8').trim()).toBe(pub);
    expect(pub).toMatch(/^MCowBQYDK2VwAyEA[A-Za-z0-9+/]{43}=$/);
    const again = await sluice(['keygen', '--signing', '--out', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists already');
    const printed = await sluice(['keygen', '--signing', '--print-private']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('-----BEGIN PRIVATE KEY-----');
  });
});

describe('serve --trust-key over an HTTP store', () => {
  let gateway: Served;
  let v2: string;

  it('serves a release signed by a trusted key; a release signed by the second trusted key (rotation) too', async () => {
    const v1 = await release(1, keys.a.file);
    expect(existsSync(path.join(storeDir, 'bundles', `${v1}.json.sig`))).toBe(true);
    const sig = readFileSync(path.join(storeDir, 'bundles', `${v1}.json.sig`), 'utf8');
    expect(sig).not.toContain('PRIVATE');
    // Key A by file (its .pub), key B inline.
    gateway = await serveStore(base, 20_000, ['--trust-key', `${keys.a.file}.pub,${keys.b.pub}`]);
    running.push(gateway);
    expect(await servedId(gateway)).toBe(v1);
    expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(200);

    // Rotation: B's private key from an environment variable.
    v2 = await release(2, 'env:SIGN_B', { SIGN_B: readFileSync(keys.b.file, 'utf8') });
    await until(async () => (await servedId(gateway)) === v2, 'the release signed with key B to be served');
  });

  it('refuses a bundle edited after signing whose id was recomputed, and keeps serving the last good one', async () => {
    const before = await failedSwaps(gateway, 'BUNDLE_SIGNATURE_INVALID');
    const original = JSON.parse(readFileSync(path.join(storeDir, 'bundles', `${v2}.json`), 'utf8'));
    // The attacker edits the content and recomputes the id: it hashes to its name, as every check asks.
    original.apis.orders.definition.version = '2.666';
    const forged = { ...original, id: bundleId(original) };
    writeFileSync(path.join(storeDir, 'bundles', `${forged.id}.json`), `${canonicalJson(forged)}\n`);
    // ...and puts the old signature beside it (it has no private key).
    writeFileSync(path.join(storeDir, 'bundles', `${forged.id}.json.sig`), readFileSync(path.join(storeDir, 'bundles', `${v2}.json.sig`)));
    await pointTo(forged.id, 'v2-forged');
    await until(async () => gateway.output().includes('BUNDLE_SIGNATURE_INVALID'), 'the signature refusal in the log');
    expect(gateway.output()).toMatch(/"code":"BUNDLE_SIGNATURE_INVALID"[^\n]*does not match its bytes/);
    expect(await servedId(gateway)).toBe(v2);
    expect(await failedSwaps(gateway, 'BUNDLE_SIGNATURE_INVALID')).toBe(before + 1);
    const answer = await fetch(`${gateway.url}/orders?limit=1`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    expect(answer.status).toBe(200); // still serving
    await answer.text();
    await new Promise((r) => setTimeout(r, 1500)); // several polls: counted once, not per poll
    expect(await failedSwaps(gateway, 'BUNDLE_SIGNATURE_INVALID')).toBe(before + 1);
  });

  it('refuses an unsigned release and one signed by an untrusted key; a trusted one is served again', async () => {
    await release(3);
    await until(async () => gateway.output().includes('BUNDLE_UNSIGNED'), 'the unsigned refusal in the log');
    expect(await servedId(gateway)).toBe(v2);
    expect(await failedSwaps(gateway, 'BUNDLE_UNSIGNED')).toBeGreaterThanOrEqual(1);

    await release(4, keys.c.file);
    await until(async () => /BUNDLE_SIGNATURE_INVALID[^\n]*which is not trusted/.test(gateway.output()), 'the untrusted-key refusal in the log');
    expect(await servedId(gateway)).toBe(v2);

    const v5 = await release(5, keys.a.file);
    await until(async () => (await servedId(gateway)) === v5, 'the release signed with key A to be served');
  });

  it('at start with no trusted bundle the gateway stays NOT_READY and says why; without --trust-key nothing changes', async () => {
    const untrusting = await serveStore(base, 20_000, ['--trust-key', keys.c.pub]);
    running.push(untrusting);
    await until(async () => untrusting.output().includes('BUNDLE_SIGNATURE_INVALID'), 'the refusal at start');
    const answer = await fetch(`${untrusting.url}/orders?limit=1`);
    expect(answer.status).toBe(503);
    expect((await answer.json()).code).toBe('NOT_READY');
    expect((await fetch(`${untrusting.adminUrl}/readyz`)).status).toBe(503);

    const unsigned = await release(6);
    const plain = await serveStore(base);
    running.push(plain);
    await until(async () => (await servedId(plain)) === unsigned, 'a runtime without --trust-key to serve the unsigned release');
  });

  it('refuses a --trust-key that is a private key or not a key, naming it (exit 2)', async () => {
    const privateKey = await sluice(['serve', '--store', base, '--port', '0', '--admin-port', '0', '--trust-key', keys.a.file]);
    expect(privateKey.code).toBe(2);
    expect(privateKey.stderr).toContain(`--trust-key ${keys.a.file} is a private key`);
    expect(privateKey.stderr).not.toContain('BEGIN');
    const notAKey = await sluice(['serve', '--store', base, '--port', '0', '--admin-port', '0', '--trust-key', path.join(storeDir, 'current')]);
    expect(notAKey.code).toBe(2);
    expect(notAKey.stderr).toContain(`--trust-key ${path.join(storeDir, 'current')} is not a public key`);
  });
});

async function pointTo(id: string, tag: string) {
  await writeAtomic(path.join(storeDir, 'current'), `${JSON.stringify({ id, tag, commit: 'f'.repeat(40), deployment: 99, kind: 'release', time: new Date().toISOString() })}\n`);
}

async function until(condition: () => Promise<boolean>, what: string, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
