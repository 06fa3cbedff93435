/**
 * A repository's first APIs: the base of the pull request (or the last tag) has no APIs folder yet.
 * `diff` shows everything as added and `validate --against` has nothing to break, as the CI
 * workflow in docs/ci-workflow.md needs on the first pull request. Both sides without the folder is
 * still an error (a wrong --apis-dir).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { sluice } from './cli.ts';
import { apiFolder, mockApi, TestRepo } from './repo.ts';

let repo: TestRepo;

beforeAll(() => {
  repo = new TestRepo();
  repo.write({ 'README.md': 'APIs come later\n' });
  repo.commit('empty');
  repo.tag('v0');
  repo.git('checkout', '-q', '-b', 'first-api');
  repo.write(apiFolder('orders', mockApi('orders')));
  repo.commit('first API');
});
afterAll(() => repo.remove());

describe('the first APIs of a repository', () => {
  it('diff against a base without apis/ shows the APIs as added (markdown and json)', async () => {
    const markdown = await sluice(['diff', 'main', 'HEAD', '--repo', repo.dir, '--format', 'markdown']);
    expect(markdown.code, markdown.stderr).toBe(0);
    expect(markdown.stdout).toContain('`main (no apis/)`');
    expect(markdown.stdout).toContain('**0 changed, 1 added, 0 removed, 0 unchanged**');
    const json = JSON.parse((await sluice(['diff', 'main', 'HEAD', '--repo', repo.dir, '--format', 'json'])).stdout);
    expect(json.apis).toEqual([expect.objectContaining({ id: 'orders', status: 'added' })]);
    expect(json.dangers.map((d: { code: string }) => d.code)).toEqual(['KEYLESS_PLAN_ADDED']);
  });

  it('validate --against a tag without apis/ validates and says there is nothing to break', async () => {
    const result = await sluice(['validate', path.join(repo.dir, 'apis'), '--against', 'v0']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/note: there is no folder "apis" in the tree at v0 .*no release rule can be broken/);
  });

  it('diff where neither side has the folder is a usage error naming it', async () => {
    const result = await sluice(['diff', 'main', 'v0', '--repo', repo.dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/there is no folder "apis" in the tree at main .*nor at v0; use --apis-dir/);
  });

  it('compile --ref still refuses a ref without the folder', async () => {
    const result = await sluice(['compile', '--ref', 'v0', '--repo', repo.dir, '--out', path.join(repo.dir, '.out')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/there is no folder "apis" in the tree at v0/);
  });
});
