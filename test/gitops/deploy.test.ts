/**
 * A commit saves, a tag deploys: the real CLI against a real git repository, and a real
 * `sluice serve --store` child process following the store.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../compiler/store.ts';
import { connect, waitFor, within } from '../support/harness.ts';
import { serveStore, sluice, type Served } from './cli.ts';
import { apiFolder, mockApi, TestRepo } from './repo.ts';

let repo: TestRepo;
let storeDir: string;
let served: Served | undefined;

const api = (id: string, content: string) => apiFolder(id, mockApi(id, { endpoints: [{ type: 'mock', messageInterval: 50, messageContent: content }] }));

beforeAll(() => {
  repo = new TestRepo();
  storeDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-deploy-store-'));
});
afterAll(async () => {
  await served?.stop();
  repo.remove();
  rmSync(storeDir, { recursive: true, force: true });
});

/** /status once it reports `bundleId`, or the last answer at `deadline`. */
async function statusServing(server: Served, bundleId: string, deadline: number) {
  let status = await server.status();
  while (status.bundleId !== bundleId && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    status = await server.status();
  }
  return status;
}

async function ok(args: string[]) {
  const result = await sluice(args);
  expect(result.code, `sluice ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(0);
  return result;
}

describe('gitops deploy', () => {
  it('a commit never changes what the runtime serves; a tag does within 2 s, unchanged APIs keep their connections', async () => {
    repo.write({ ...api('alpha', 'alpha v1'), ...api('beta', 'beta v1') });
    const c1 = repo.commit('v1');
    repo.tag('v1'); // lightweight
    const v1 = await ok(['compile', '--ref', 'v1', '--repo', repo.dir, '--store', storeDir]);
    expect(v1.stdout).toContain('released v1 (lightweight tag');
    expect(v1.stdout.trim().split('\n').at(-1)).toBe('deployment 1');

    served = await serveStore(storeDir);
    const first = await served.status();
    expect(first.release).toMatchObject({ tag: 'v1', commit: c1, deployment: 1, kind: 'release' });
    const ws = (p: string) => `${served!.url.replace(/^http/, 'ws')}${p}`;
    const alpha = connect(ws('/alpha'));
    const beta = connect(ws('/beta'));
    await within(Promise.all([alpha.opened, beta.opened]), 3000, 'both handshakes');
    await waitFor(() => alpha.messages.length > 0 && beta.messages.length > 0, 3000, 'first messages');

    // A commit (saved bundle) changes beta: stored, but nothing is deployed.
    repo.write(api('beta', 'beta v2'));
    repo.commit('beta v2');
    const saved = await ok(['compile', '--ref', 'main', '--repo', repo.dir, '--store', storeDir]);
    expect(saved.stdout).toContain('current not moved: v1 (deployment 1)');
    const savedId = saved.stdout.match(/as bundle ([0-9a-f]{64})/)![1];
    expect(new Store(storeDir).bundlePath(savedId)).toMatch(/\.json$/);
    await new Promise((r) => setTimeout(r, 1500)); // a non-event: longer than the runtime's poll interval
    expect((await served.status()).bundleId).toBe(first.bundleId);
    expect(beta.ws.readyState).toBe(beta.ws.OPEN);

    // An uncommitted edit to alpha: never part of any bundle.
    repo.write({ 'apis/alpha/api.json': mockApi('alpha', { endpoints: [{ type: 'mock', messageContent: 'UNCOMMITTED' }] }) });
    repo.tag('v2', true); // annotated tag on the beta v2 commit
    const released = await ok(['compile', '--ref', 'v2', '--repo', repo.dir, '--store', storeDir]);
    const tagged = Date.now();
    expect(released.stdout).toContain('released v2 (annotated tag');
    expect(released.stdout).toContain(`bundle ${savedId}`); // same content as the saved commit: same id
    expect((await within(beta.closed, 2000, 'beta (changed) to close with 1012')).code).toBe(1012);
    const status = await statusServing(served, savedId, tagged + 2000);
    expect(status.bundleId, 'the runtime serves the tag within 2 s').toBe(savedId);
    expect(status.release).toMatchObject({ tag: 'v2', deployment: 2, kind: 'release' });
    const count = alpha.messages.length;
    await waitFor(() => alpha.messages.length > count + 2, 2000, 'alpha (unchanged) to keep receiving');
    expect(alpha.ws.readyState).toBe(alpha.ws.OPEN);
    expect(alpha.texts().every((t) => t === 'alpha v1')).toBe(true);
    const bundleText = readFileSync(new Store(storeDir).bundlePath(savedId), 'utf8');
    expect(bundleText).toContain('beta v2');
    expect(bundleText).not.toContain('UNCOMMITTED');
    const fresh = connect(ws('/beta'));
    await waitFor(() => fresh.messages.length > 0, 3000, 'a message from the new beta');
    expect(fresh.texts()[0]).toBe('beta v2');
    fresh.ws.close();
    alpha.ws.close();
  });

  it('rollback restores the earlier bundle id, and the runtime follows', async () => {
    expect(served).toBeDefined();
    const store = new Store(storeDir);
    const v1 = (await store.releases()).find((e) => e.tag === 'v1')!;
    const rolled = await ok(['rollback', 'v1', '--store', storeDir]);
    expect(rolled.stdout).toContain(`rolled back to v1: deployment 3 serves bundle ${v1.bundleId}`);
    expect((await store.current())?.id).toBe(v1.bundleId);
    const status = await statusServing(served!, v1.bundleId, Date.now() + 2000);
    expect(status.bundleId).toBe(v1.bundleId);
    expect(status.release).toMatchObject({ tag: 'v1', deployment: 3, kind: 'rollback' });

    const list = await ok(['releases', '--store', storeDir]);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/#\s+TAG\s+COMMIT\s+BUNDLE\s+TIME\s+KIND/);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^\*\s+3\s+v1\s+[0-9a-f]{7}\s+[0-9a-f]{12}\s+\S+\s+rollback \(to #1\)$/);
    const json = JSON.parse((await ok(['releases', '--store', storeDir, '--format', 'json'])).stdout);
    expect(json.releases.map((e: { kind: string; current: boolean }) => [e.kind, e.current])).toEqual([['release', false], ['release', false], ['rollback', true]]);
    const unknown = await sluice(['rollback', 'v9', '--store', storeDir]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('no release "v9"');
  });

  it('stops on SIGTERM', async () => {
    expect(await served!.stop()).toBe(0);
    served = undefined;
  });
});
