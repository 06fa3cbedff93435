import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { COMPILER_VERSION } from '../../compiler/index.ts';
import { Store, StoreError } from '../../compiler/store.ts';
import { apiFolder, compileFiles, mockApi } from './repo.ts';

const dirs: string[] = [];
const tempStore = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-store-'));
  dirs.push(dir);
  return new Store(dir, { lockTimeoutMs: 20_000 });
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const bundleA = () => compileFiles(apiFolder('orders', mockApi('orders')));
const bundleB = () => compileFiles(apiFolder('orders', mockApi('orders', { version: '2.0' })));
const info = (tag: string) => ({ tag, commit: tag.padEnd(40, '0'), compilerVersion: COMPILER_VERSION });

async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

describe('compiler/store', () => {
  it('releases append to the log and move current; re-releasing the current tag changes nothing', async () => {
    const store = tempStore();
    const a = bundleA();
    const b = bundleB();
    const first = await store.release(a, info('v1'), (previous) => {
      expect(previous).toBeUndefined();
      return [];
    });
    expect(first).toMatchObject({ unchanged: false, entry: { deployment: 1, kind: 'release', tag: 'v1', bundleId: a.id } });
    const second = await store.release(b, info('v2'), (previous) => {
      expect(previous?.pointer.tag).toBe('v1');
      expect(previous?.bundle.id).toBe(a.id);
      return [];
    });
    expect(second.entry.deployment).toBe(2);
    expect(await store.current()).toMatchObject({ id: b.id, tag: 'v2', deployment: 2, kind: 'release' });
    expect((await store.release(b, info('v2'), () => [])).unchanged).toBe(true);
    expect((await store.releases()).map((e) => e.tag)).toEqual(['v1', 'v2']);
    expect((await store.readBundle(a.id)).id).toBe(a.id);
  });

  it('a release with problems writes nothing', async () => {
    const store = tempStore();
    await store.release(bundleA(), info('v1'), () => []);
    const b = bundleB();
    const result = await store.release(b, info('v2'), () => ['no']);
    expect(result.problems).toEqual(['no']);
    expect((await store.current())?.tag).toBe('v1');
    expect(await store.releases()).toHaveLength(1);
    expect(existsSync(store.bundlePath(b.id))).toBe(false);
  });

  it('rollback re-points current to the earlier bundle and logs a rollback deployment', async () => {
    const store = tempStore();
    const a = bundleA();
    await store.release(a, info('v1'), () => []);
    await store.release(bundleB(), info('v2'), () => []);
    const rolled = await store.rollback('v1');
    expect(rolled.entry).toMatchObject({ deployment: 3, kind: 'rollback', tag: 'v1', bundleId: a.id, rollbackOf: 1 });
    expect(await store.current()).toMatchObject({ id: a.id, tag: 'v1', deployment: 3, kind: 'rollback' });
    expect((await store.rollback('v1')).unchanged).toBe(true);
    const unknown = await storeError(store.rollback('v7'));
    expect(unknown.code).toBe('store-unknown-release');
    expect(unknown.message).toContain('releases: v1, v2');
  });

  it('a saved bundle is stored but never moves current', async () => {
    const store = tempStore();
    await store.release(bundleA(), info('v1'), () => []);
    const b = bundleB();
    await store.save(b, { ref: 'main', commit: 'f'.repeat(40), compilerVersion: COMPILER_VERSION });
    expect((await store.current())?.tag).toBe('v1');
    expect((await store.readBundle(b.id)).id).toBe(b.id);
    expect(await store.saved()).toEqual([expect.objectContaining({ ref: 'main', bundleId: b.id })]);
  });

  it('refuses a corrupted or truncated bundle with a clear error', async () => {
    const store = tempStore();
    const a = bundleA();
    await store.putBundle(a);
    const file = store.bundlePath(a.id);
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, text.replace('"orders"', '"ORDERS"'));
    const corrupted = await storeError(store.readBundle(a.id));
    expect(corrupted.code).toBe('store-bundle-corrupt');
    expect(corrupted.message).toMatch(/corrupted: its content hashes to [0-9a-f]{64}/);
    writeFileSync(file, text.slice(0, text.length / 2));
    expect((await storeError(store.readBundle(a.id))).message).toContain('truncated or not JSON');
    await store.putBundle(a); // a bad copy is replaced by a good one
    expect((await store.readBundle(a.id)).id).toBe(a.id);
    expect((await storeError(store.readBundle('0'.repeat(64)))).code).toBe('store-bundle-missing');
  });

  it('breaks a lock left by a dead process, and waits for a live holder', async () => {
    const store = tempStore();
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.on('exit', r));
    writeFileSync(path.join(store.dir, '.lock'), JSON.stringify({ pid: dead.pid, host: os.hostname(), time: Date.now() }));
    await store.release(bundleA(), info('v1'), () => []);
    expect(existsSync(path.join(store.dir, '.lock'))).toBe(false);

    writeFileSync(path.join(store.dir, '.lock'), JSON.stringify({ pid: process.pid, host: os.hostname(), time: Date.now() }));
    const impatient = new Store(store.dir, { lockTimeoutMs: 300 });
    const locked = await storeError(impatient.rollback('v1'));
    expect(locked.code).toBe('store-locked');
    const old = new Store(store.dir, { lockTimeoutMs: 2000, staleLockMs: 1 });
    await new Promise((r) => setTimeout(r, 5));
    expect((await old.rollback('v1')).unchanged).toBe(true); // a lock older than staleLockMs is broken
  });

  it('four processes releasing at once leave one consistent log', async () => {
    const store = tempStore();
    const worker = path.join(import.meta.dirname, 'release-worker.ts');
    const runs = ['p', 'q', 'r', 's'].map(
      (name) =>
        new Promise<number>((resolve) => {
          const child = spawn(process.execPath, ['--import', 'tsx', worker, store.dir, name, '5'], { stdio: ['ignore', 'ignore', 'inherit'] });
          child.on('exit', (code) => resolve(code ?? 1));
        }),
    );
    expect(await Promise.all(runs)).toEqual([0, 0, 0, 0]);
    const entries = await store.releases();
    expect(entries.map((e) => e.deployment)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(entries.map((e) => e.tag)).size).toBe(20);
    const current = await store.current();
    expect(current?.deployment).toBe(20);
    expect(current?.id).toBe(entries[19].bundleId);
    for (const e of entries) expect((await store.readBundle(e.bundleId)).id).toBe(e.bundleId);
  }, 60_000);
});
