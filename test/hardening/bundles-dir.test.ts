/**
 * `--bundles DIR` serves the newest *valid* bundle (a newer broken, unsigned or forged file is
 * skipped, at start too), and a compile removes the temp files a SIGKILLed compile left, but not
 * one a live writer is filling nor files of other names.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { bundleId, canonicalJson, writeBundle } from '../../compiler/bundle.ts';
import { signatureText } from '../../core/signature.ts';
import type { Gateway } from '../../runtime/gateway.ts';
import { dirSource } from '../../runtime/sources/dir.ts';
import { fileSource } from '../../runtime/sources/file.ts';
import { parseTrustKeys } from '../../runtime/trust.ts';
import { gatewayWith, waitFor } from '../support/harness.ts';
import { sluice } from '../gitops/cli.ts';
import { apiFolder, compileFiles, mockApi, TestRepo } from '../gitops/repo.ts';

// Real child processes (tsx start-up: seconds each on a loaded machine).
vi.setConfig({ testTimeout: 90_000 });

const tmp = mkdtempSync(path.join(os.tmpdir(), 'sluice-bundles-dir-'));
let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const v = (n: number) => compileFiles(apiFolder('orders', mockApi('orders', { version: `${n}.0` })), { tag: `v${n}` });
const served = () => gateway?.routers.current?.bundleId;
const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const sign = (bytes: Uint8Array) => signatureText(bytes, privateKey);
const at = (file: string, secondsAgo: number) => utimesSync(file, new Date(Date.now() - secondsAgo * 1000), new Date(Date.now() - secondsAgo * 1000));

describe('--bundles DIR falls back to the newest valid bundle', () => {
  it('at start and on change, a newer file that is not a valid bundle is skipped', async () => {
    const dir = path.join(tmp, 'plain');
    const good = await writeBundle(dir, v(1));
    at(good, 60);
    const broken = path.join(dir, 'zz-broken.json');
    writeFileSync(broken, '{"formatVersion": 1, "apis": {'); // truncated
    gateway = await gatewayWith(undefined, { source: dirSource(dir) });
    expect(served()).toBe(v(1).id);

    // A newer file whose id does not match its content: skipped too.
    const forged = { ...v(2), id: 'f'.repeat(64) };
    writeFileSync(path.join(dir, 'zz-forged.json'), `${canonicalJson(forged)}\n`);
    const next = await writeBundle(dir, v(3));
    await waitFor(() => served() === v(3).id, 5000, 'the newest valid bundle (v3)');
    // v3 is newest now; a broken file newer than it does not unseat it.
    writeFileSync(path.join(dir, 'zzz-broken.json'), 'not json');
    await new Promise((r) => setTimeout(r, 500));
    expect(served()).toBe(v(3).id);
    expect(existsSync(next)).toBe(true);
  });

  it('with --trust-key, a newer unsigned or forged-and-rehashed file is skipped for the newest signed one', async () => {
    const dir = path.join(tmp, 'signed');
    const trust = parseTrustKeys(publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));
    const signed = await writeBundle(dir, v(1), { sign });
    at(signed, 60);
    at(`${signed}.sig`, 60);
    await writeBundle(dir, v(2)); // newer, unsigned
    gateway = await gatewayWith(undefined, { source: dirSource(dir, { trust }) });
    expect(served()).toBe(v(1).id);

    // Edited after signing, id recomputed, the old signature copied beside it: refused.
    const edited = v(4);
    edited.apis.orders.definition.version = '4.666';
    const rehashed = { ...edited, id: bundleId(edited) };
    const file = path.join(dir, `${rehashed.id}.json`);
    writeFileSync(`${file}.sig`, sign(Buffer.from(`${canonicalJson(v(4))}\n`)));
    writeFileSync(file, `${canonicalJson(rehashed)}\n`);
    await new Promise((r) => setTimeout(r, 500));
    expect(served()).toBe(v(1).id);

    await writeBundle(dir, v(5), { sign });
    await waitFor(() => served() === v(5).id, 5000, 'the newest signed bundle (v5)');
  });
});

describe('--bundle FILE with --trust-key', () => {
  it('serves the signed file, refuses it once edited (the last good keeps serving, /status says why), takes it re-signed', async () => {
    const dir = path.join(tmp, 'single');
    const trust = parseTrustKeys(publicKey.export({ type: 'spki', format: 'der' }).toString('base64'));
    const file = await writeBundle(dir, v(1), { sign });
    gateway = await gatewayWith(undefined, { source: fileSource(file, { trust }) });
    expect(served()).toBe(v(1).id);
    const edited = v(2);
    writeFileSync(file, `${canonicalJson(edited)}\n`); // new bytes, old signature
    await waitFor(() => gateway!.routers.lastError !== undefined, 5000, 'the edited file to be refused');
    expect(served()).toBe(v(1).id);
    const status = await (await fetch(`${gateway.adminUrl}/status`)).json();
    expect(status.lastError.message).toMatch(/does not match its bytes/);
    writeFileSync(`${file}.sig`, sign(Buffer.from(`${canonicalJson(edited)}\n`)));
    await waitFor(() => served() === edited.id, 5000, 'the re-signed file to be served');
  });
});

describe('temp files of a killed compile', () => {
  /** A process that creates `template` (PID: its pid) in `dir` as a compile's writer does, then is SIGKILLed. */
  async function killedWriter(dir: string, template: string): Promise<string> {
    const child = spawn(process.execPath, ['-e', `require('fs').writeFileSync(require('path').join(${JSON.stringify(dir)}, process.argv[1].replace('PID', process.pid)), '{"half":'); console.log(process.pid); setInterval(() => {}, 1000)`, template], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve) => child.stdout.once('data', (chunk) => resolve(Number(String(chunk).trim()))));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    return path.join(dir, template.replace('PID', String(pid)));
  }

  it('compile --out removes the leftover temp of a SIGKILLed compile, keeps a live writer\'s and other files', async () => {
    const out = path.join(tmp, 'out');
    mkdirSync(out, { recursive: true });
    const id = v(1).id;
    const leftover = await killedWriter(out, `.${id}.PID.0123456789ab.tmp`);
    const live = path.join(out, `.${id}.${process.pid}.ba9876543210.tmp`); // this test process is alive
    const other = path.join(out, '.notes.tmp');
    writeFileSync(live, '{');
    writeFileSync(other, 'mine');
    const old = path.join(out, `.${id}.${process.pid}.aaaaaaaaaaaa.tmp`);
    writeFileSync(old, '{');
    at(old, 120); // untouched for two minutes: a leftover whoever wrote it
    expect(existsSync(leftover)).toBe(true);

    const result = await sluice(['compile', path.join(import.meta.dirname, '../../apis'), '--out', out]);
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(leftover)).toBe(false);
    expect(existsSync(old)).toBe(false);
    expect(existsSync(live)).toBe(true);
    expect(existsSync(other)).toBe(true);
  });

  it('compile --ref --store removes the store temp files a SIGKILLed release left', async () => {
    const repo = new TestRepo('sluice-temps-repo-');
    try {
      const store = path.join(tmp, 'store');
      repo.write(apiFolder('orders', mockApi('orders'))).commit('v1');
      repo.tag('v1');
      expect((await sluice(['compile', '--ref', 'v1', '--repo', repo.dir, '--store', store])).code).toBe(0);
      const current = await killedWriter(store, 'current.tmp-PID-0badc0de');
      const bundle = await killedWriter(path.join(store, 'bundles'), `${'a'.repeat(64)}.json.tmp-PID-deadbeef`);
      const foreign = path.join(store, 'current.tmp-x');
      writeFileSync(foreign, 'not ours');
      repo.write(apiFolder('orders', mockApi('orders', { version: '2.0' }))).commit('v2');
      repo.tag('v2');
      const result = await sluice(['compile', '--ref', 'v2', '--repo', repo.dir, '--store', store]);
      expect(result.code, result.stderr).toBe(0);
      expect(existsSync(current)).toBe(false);
      expect(existsSync(bundle)).toBe(false);
      expect(existsSync(foreign)).toBe(true);
    } finally {
      repo.remove();
    }
  });
});
