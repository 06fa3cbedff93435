/**
 * A store that is missing or has a corrupted `current` through the real CLI: read commands never
 * create a store, the history stays readable, and `sluice rollback` is the way out.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../compiler/store.ts';
import { sluice } from './cli.ts';
import { apiFolder, mockApi, TestRepo } from './repo.ts';

let repo: TestRepo;
let root: string;

beforeAll(() => {
  repo = new TestRepo();
  root = mkdtempSync(path.join(os.tmpdir(), 'sluice-store-repair-'));
  repo.write(apiFolder('orders', mockApi('orders')));
  repo.commit('one');
  repo.tag('v1');
  repo.write(apiFolder('orders', mockApi('orders', { version: '2' })));
  repo.commit('two');
  repo.tag('v2');
});
afterAll(() => {
  repo.remove();
  rmSync(root, { recursive: true, force: true });
});

describe('store repair', () => {
  it('rollback and releases on a store that does not exist exit 2 and create nothing', async () => {
    const missing = path.join(root, 'typo');
    const rollback = await sluice(['rollback', 'v1', '--store', missing]);
    expect(rollback.code).toBe(2);
    expect(rollback.stderr).toContain(`there is no store at ${missing}`);
    const releases = await sluice(['releases', '--store', missing]);
    expect(releases.code).toBe(2);
    expect(existsSync(missing)).toBe(false);
  });

  it('an --out or --store that cannot be written is exit 2 with a message, never a stack trace', async () => {
    const file = path.join(root, 'a-file');
    writeFileSync(file, 'not a folder');
    for (const flag of ['--out', '--store']) {
      const result = await sluice(['compile', '--ref', 'v1', '--repo', repo.dir, flag, path.join(file, 'x')]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toMatch(/^sluice compile: cannot (write the bundle to|create the store) .*ENOTDIR/);
      expect(result.stderr).not.toContain('    at ');
    }
  });

  it('a corrupted current: the history is still listed, a release says how to repair, rollback repairs', async () => {
    const store = path.join(root, 'store');
    for (const tag of ['v1', 'v2']) expect((await sluice(['compile', '--ref', tag, '--repo', repo.dir, '--store', store])).code).toBe(0);
    writeFileSync(path.join(store, 'current'), '{"id": "trunc');

    const releases = await sluice(['releases', '--store', store]);
    expect(releases.code).toBe(2);
    expect(releases.stdout).toMatch(/^ +1 +v1 /m);
    expect(releases.stdout).toMatch(/^ +2 +v2 /m);
    expect(releases.stderr).toContain('current is not JSON; `sluice rollback TAG --store');

    const release = await sluice(['compile', '--ref', 'v1', '--repo', repo.dir, '--store', store]);
    expect(release.code).toBe(2);
    expect(release.stderr).toContain('`sluice rollback TAG --store');

    const rollback = await sluice(['rollback', 'v2', '--store', store]);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stderr).toContain('warning:');
    expect(await new Store(store).current()).toMatchObject({ tag: 'v2', deployment: 3, kind: 'rollback' });
    expect((await sluice(['compile', '--ref', 'v1', '--repo', repo.dir, '--store', store])).code).toBe(0);
  });
});
