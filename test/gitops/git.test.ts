import { symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { compileRef } from '../../cli/compile-ref.ts';
import { GitError, readRef, resolveRef } from '../../compiler/git.ts';
import { apiFolder, mockApi, TestRepo } from './repo.ts';

const repos: TestRepo[] = [];
const newRepo = () => {
  const repo = new TestRepo();
  repos.push(repo);
  return repo;
};
afterEach(() => repos.splice(0).forEach((r) => r.remove()));

async function gitError(promise: Promise<unknown>): Promise<GitError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GitError);
  return error as GitError;
}

describe('compiler/git', () => {
  it('reads exactly the tree at a commit, never the working tree or the index', async () => {
    const repo = newRepo();
    repo.write(apiFolder('orders', mockApi('orders'))).commit('v1');
    const first = repo.git('rev-parse', 'HEAD');
    repo.write({ 'apis/orders/api.json': mockApi('orders', { state: 'stopped' }) }).commit('stop');
    // Uncommitted edits: one staged, one only in the working tree, one new untracked file.
    repo.write({ 'apis/orders/api.json': mockApi('orders', { name: 'EDITED' }) });
    repo.git('add', 'apis/orders/api.json');
    repo.write({ 'apis/orders/plans/open.json': { type: 'keyless', name: 'EDITED' }, 'apis/extra/api.json': mockApi('extra') });

    const head = await readRef(repo.dir, 'HEAD');
    expect(head.files.map((f) => f.path)).toEqual(['orders/api.json', 'orders/plans/open.json']);
    expect(JSON.parse(head.files[0].text).state).toBe('stopped');
    expect(head.files.map((f) => f.text).join('')).not.toContain('EDITED');

    const old = await readRef(repo.dir, first);
    expect(old.commit).toBe(first);
    expect(old.tag).toBeUndefined();
    expect(JSON.parse(old.files[0].text).state).toBe('started');
  });

  it('tells lightweight and annotated tags apart and peels them to their commit', async () => {
    const repo = newRepo();
    repo.write(apiFolder('orders', mockApi('orders')));
    const commit = repo.commit();
    repo.tag('v1').tag('v1.1', true);
    expect(await resolveRef(repo.dir, 'v1')).toMatchObject({ commit, tag: 'v1', tagKind: 'lightweight' });
    expect(await resolveRef(repo.dir, 'v1.1')).toMatchObject({ commit, tag: 'v1.1', tagKind: 'annotated' });
    expect(await resolveRef(repo.dir, 'refs/tags/v1.1')).toMatchObject({ commit, tag: 'v1.1' });
    const branch = await resolveRef(repo.dir, 'main');
    expect(branch).toMatchObject({ commit });
    expect(branch.tag).toBeUndefined();
    expect((await resolveRef(repo.dir, commit.slice(0, 10))).tag).toBeUndefined();
  });

  it('refuses unknown refs, option-like refs, non-repositories and a missing APIs folder with clear errors', async () => {
    const repo = newRepo();
    repo.write(apiFolder('orders', mockApi('orders'))).commit();
    const unknown = await gitError(readRef(repo.dir, 'v9'));
    expect(unknown.code).toBe('git-unknown-ref');
    expect(unknown.message).toContain('unknown ref "v9"');
    expect((await gitError(readRef(repo.dir, '--output=/tmp/x'))).code).toBe('git-bad-ref');
    const notRepo = await gitError(readRef(os.tmpdir(), 'HEAD'));
    expect(notRepo.code).toBe('git-not-a-repo');
    const noDir = await gitError(readRef(repo.dir, 'HEAD', { apisDir: 'definitions' }));
    expect(noDir.code).toBe('git-no-apis-dir');
    expect(noDir.message).toContain('--apis-dir');
  });

  it('honours --apis-dir, lists non-JSON files unread, skips hidden ones and reports symbolic links', async () => {
    const repo = newRepo();
    repo.write({ ...apiFolder('orders', mockApi('orders')), 'gateway/defs/orders/README.md': '# doc', 'gateway/defs/.hidden/api.json': '{}' });
    repo.write({ 'gateway/defs/orders/api.json': mockApi('orders') });
    symlinkSync('api.json', path.join(repo.dir, 'gateway/defs/orders/link.json'));
    repo.commit();
    const tree = await readRef(repo.dir, 'HEAD', { apisDir: 'gateway/defs/' });
    expect(tree.apisDir).toBe('gateway/defs');
    expect(tree.files).toEqual([
      { path: 'orders/README.md', text: '' },
      { path: 'orders/api.json', text: expect.stringContaining('"orders"') },
    ]);
    expect(tree.diagnostics).toEqual([expect.objectContaining({ file: 'orders/link.json', code: 'GIT_NOT_A_FILE' })]);
  });

  it('reads thousands of files through one cat-file process', async () => {
    const repo = newRepo();
    const files: Record<string, unknown> = {};
    for (let i = 0; i < 1500; i++) Object.assign(files, { [`apis/api-${i}/api.json`]: mockApi(`api-${i}`) });
    repo.write(files).commit();
    const started = performance.now();
    const tree = await readRef(repo.dir, 'HEAD');
    expect(tree.files).toHaveLength(1500);
    expect(JSON.parse(tree.files.find((f) => f.path === 'api-777/api.json')!.text).name).toBe('api-777');
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('a blob that is not UTF-8 text is an UNREADABLE_FILE, as from a folder', async () => {
    const repo = newRepo();
    repo.write(apiFolder('orders', mockApi('orders')));
    writeFileSync(path.join(repo.dir, 'apis/orders/plans/gold.json'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff, 0x00]));
    repo.commit();
    const { result } = await compileRef(repo.dir, 'HEAD');
    expect(result.diagnostics.map((d) => `${d.file} ${d.code} ${d.message}`)).toEqual(['orders/plans/gold.json UNREADABLE_FILE orders/plans/gold.json is not UTF-8 text (a binary file?)']);
  });

  it('refuses a file larger than the compiler accepts without reading it', async () => {
    const repo = newRepo();
    repo.write(apiFolder('orders', mockApi('orders')));
    writeFileSync(path.join(repo.dir, 'apis/orders/plans/big.json'), `"${'x'.repeat(1024 * 1024 + 10)}"`);
    repo.commit();
    const tree = await readRef(repo.dir, 'HEAD');
    expect(tree.files.map((f) => f.path)).not.toContain('orders/plans/big.json');
    expect(tree.diagnostics).toEqual([expect.objectContaining({ file: 'orders/plans/big.json', code: 'FILE_TOO_LARGE' })]);
  });
});
