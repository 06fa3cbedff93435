/**
 * Release rules through the real CLI: each violation refuses the release with exit 1, names the
 * file and the release it conflicts with, and leaves `current` where it was. Also
 * `validate --against`, `diff` exit codes, and two concurrent `compile --ref` processes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../compiler/store.ts';
import { sluice } from './cli.ts';
import { apiFolder, apiKeyPlan, apiKeySubscription, keylessPlan, mockApi, TestRepo } from './repo.ts';

let repo: TestRepo;
let storeDir: string;
let base: string;

const baseline = {
  ...apiFolder('orders', mockApi('orders'), { gold: apiKeyPlan(), old: apiKeyPlan('deprecated'), open: keylessPlan() }, { acme: apiKeySubscription('gold') }),
  ...apiFolder('legacy', mockApi('legacy')),
  ...apiFolder('retired', mockApi('retired', { lifecycle: 'deprecated' }), { gold: apiKeyPlan() }, { acme: apiKeySubscription('gold') }),
};

beforeAll(async () => {
  repo = new TestRepo();
  storeDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-rules-store-'));
  repo.write(baseline);
  base = repo.commit('baseline');
  repo.tag('v1', true);
  const v1 = await sluice(['compile', '--ref', 'v1', '--repo', repo.dir, '--store', storeDir]);
  expect(v1.code, v1.stdout + v1.stderr).toBe(0);
});
afterAll(() => {
  repo.remove();
  rmSync(storeDir, { recursive: true, force: true });
});

/** Commit `change` on a branch from the baseline, tag it, try to release it. */
async function attempt(tag: string, change: Record<string, unknown | null>) {
  repo.git('checkout', '-q', '-B', `try-${tag}`, base);
  repo.write(change);
  repo.commit(tag);
  repo.tag(tag);
  return sluice(['compile', '--ref', tag, '--repo', repo.dir, '--store', storeDir]);
}

async function refused(tag: string, change: Record<string, unknown | null>, line: RegExp) {
  const result = await attempt(tag, change);
  expect(result.code, result.stdout + result.stderr).toBe(1);
  expect(result.stdout).toMatch(line);
  expect(result.stdout).toContain('(conflicts with release v1, deployment 1)');
  expect(result.stderr).toContain(`release ${tag} refused by the release rules; current not moved`);
  expect((await new Store(storeDir).current())?.tag).toBe('v1');
}

describe('release rules through sluice compile --ref', () => {
  it('an API that was started may not disappear', async () => {
    await refused('r1', { 'apis/legacy/api.json': null, 'apis/legacy/plans/open.json': null },
      /^apis\/legacy\/api\.json:1:1 RELEASE_API_REMOVED API "legacy" was removed, but in the previous release it was started and had published plans \(open\)/m);
  });

  it('a plan that was not closed may not disappear', async () => {
    await refused('r2', { 'apis/orders/plans/old.json': null }, /^apis\/orders\/plans\/old\.json:1:1 RELEASE_PLAN_REMOVED plan "old" of API "orders" was removed, but it is deprecated/m);
  });

  it('deprecated is terminal', async () => {
    await refused('r3', { 'apis/retired/api.json': mockApi('retired', { lifecycle: 'published' }) },
      /^apis\/retired\/api\.json:4:\d+ RELEASE_API_LIFECYCLE_TERMINAL API "retired" is deprecated in the previous release and deprecated is terminal/m);
    await refused('r4', { 'apis/orders/plans/old.json': apiKeyPlan('published') }, /^apis\/orders\/plans\/old\.json:4:\d+ RELEASE_PLAN_STATUS_TERMINAL/m);
  });

  it('no new subscriptions to a deprecated plan or to a plan of a deprecated API', async () => {
    await refused('r5', { 'apis/orders/subscriptions/globex.json': apiKeySubscription('old') },
      /^apis\/orders\/subscriptions\/globex\.json:2:\d+ RELEASE_SUBSCRIPTION_TO_DEPRECATED new subscription "globex" to plan "old": the plan is deprecated/m);
    await refused('r6', { 'apis/retired/subscriptions/globex.json': apiKeySubscription('gold') },
      /RELEASE_SUBSCRIPTION_TO_DEPRECATED new subscription "globex" to plan "gold": API "retired" is deprecated and accepts no new subscriptions/);
  });

  it('an archived API cannot be started', async () => {
    const result = await attempt('r7', { 'apis/retired/api.json': mockApi('retired', { lifecycle: 'archived' }) });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/apis\/retired\/api\.json:\d+:\d+ ARCHIVED_STARTED/);
  });

  it('the allowed path: stop and close first, then remove', async () => {
    const stop = await attempt('v2', { ...apiFolder('legacy', mockApi('legacy', { state: 'stopped' }), { open: keylessPlan('closed') }) });
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    repo.write({ 'apis/legacy/api.json': null, 'apis/legacy/plans/open.json': null });
    repo.commit('remove legacy');
    repo.tag('v3');
    const remove = await sluice(['compile', '--ref', 'v3', '--repo', repo.dir, '--store', storeDir, '--format', 'json']);
    expect(remove.code, remove.stdout + remove.stderr).toBe(0);
    expect(JSON.parse(remove.stdout)).toMatchObject({ ok: true, kind: 'release', released: true, tag: 'v3', deployment: 3 });
  });

  it('validate --against checks the working folder against a ref, with annotations', async () => {
    repo.git('checkout', '-q', '-B', 'pr', base);
    repo.write({ 'apis/orders/plans/old.json': null }); // not committed: validate reads the folder
    const result = await sluice(['validate', 'apis', '--against', 'v1', '--format', 'github'], { cwd: repo.dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('::error file=apis/orders/plans/old.json,line=1,col=1::RELEASE_PLAN_REMOVED');
    expect(result.stdout).toContain('(conflicts with release v1)');
    const withStore = await sluice(['validate', 'apis', '--against', 'v1', '--store', storeDir], { cwd: repo.dir });
    expect(withStore.stdout).toContain('(conflicts with release v1, deployment 1)');
    repo.write({ 'apis/orders/plans/old.json': apiKeyPlan('deprecated') });
    const clean = await sluice(['validate', 'apis', '--against', 'v1'], { cwd: repo.dir });
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    const unknown = await sluice(['validate', 'apis', '--against', 'nope'], { cwd: repo.dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown ref "nope"');
  });

  it('diff exits 0 with the diff, 2 for an unknown ref, and reads the store\'s current', async () => {
    const human = await sluice(['diff', 'v1', 'r1', '--repo', repo.dir]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('STARTED_API_REMOVED  API "legacy" is started and is removed');
    const md = await sluice(['diff', 'current', 'r1', '--repo', repo.dir, '--store', storeDir, '--format', 'markdown']);
    expect(md.code).toBe(0);
    expect(md.stdout).toContain('### Sluice diff: `current: v3, deployment 3` → `r1`');
    const json = JSON.parse((await sluice(['diff', 'v1', 'v2', '--repo', repo.dir, '--format', 'json'])).stdout);
    expect(json.dangers.map((d: { code: string }) => d.code)).toEqual(['STARTED_API_STOPPED']);
    const bad = await sluice(['diff', 'v1', 'nope', '--repo', repo.dir]);
    expect(bad.code).toBe(2);
    expect((await sluice(['diff', 'v1', '--repo', repo.dir])).code).toBe(2);
  });

  it('two concurrent compiles leave a consistent log', async () => {
    // Two sibling releases that only change a description: valid in either order.
    for (const tag of ['v4', 'v5']) {
      repo.git('checkout', '-q', '-B', `b-${tag}`, 'v3');
      repo.write({ 'apis/orders/api.json': mockApi('orders', { description: tag }) });
      repo.commit(tag);
      repo.tag(tag);
    }
    const [a, b] = await Promise.all(['v4', 'v5'].map((tag) => sluice(['compile', '--ref', tag, '--repo', repo.dir, '--store', storeDir])));
    expect([a.code, b.code], a.stderr + b.stderr).toEqual([0, 0]);
    const store = new Store(storeDir);
    const entries = await store.releases();
    expect(entries.map((e) => e.deployment)).toEqual([1, 2, 3, 4, 5]);
    expect(entries.slice(3).map((e) => e.tag).sort()).toEqual(['v4', 'v5']);
    const current = await store.current();
    expect(current).toMatchObject({ deployment: 5, id: entries[4].bundleId, tag: entries[4].tag });
  });
});
