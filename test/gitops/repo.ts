/**
 * Test fixture: a real temporary git repository driven through the git command line, plus API
 * folder builders. Every repository lives under the OS temp dir and is removed by `remove()`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Sluice Test',
  GIT_AUTHOR_EMAIL: 'test@sluice.dev',
  GIT_COMMITTER_NAME: 'Sluice Test',
  GIT_COMMITTER_EMAIL: 'test@sluice.dev',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

export class TestRepo {
  readonly dir: string;

  constructor(prefix = 'sluice-gitops-') {
    this.dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    this.git('init', '-q', '-b', 'main');
  }

  git(...args: string[]): string {
    return execFileSync('git', ['-C', this.dir, ...args], { env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  }

  /** Write (or with `null`, delete) files relative to the repository root. */
  write(files: Record<string, unknown | null>): this {
    for (const [rel, content] of Object.entries(files)) {
      const file = path.join(this.dir, rel);
      if (content === null) {
        rmSync(file, { force: true });
        continue;
      }
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
    }
    return this;
  }

  /** Stage everything and commit; returns the commit id. */
  commit(message = 'change'): string {
    this.git('add', '-A');
    this.git('commit', '-q', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  tag(name: string, annotated = false): this {
    if (annotated) this.git('tag', '-a', name, '-m', `release ${name}`);
    else this.git('tag', name);
    return this;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A valid API over the mock endpoint, with overrides. */
export function mockApi(name: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    state: 'started',
    lifecycle: 'published',
    contextPaths: [`/${name}`],
    entrypoints: [{ type: 'http-get' }, { type: 'websocket' }],
    endpoints: [{ type: 'mock', messageInterval: 100 }],
    ...overrides,
  };
}

export function keylessPlan(status = 'published'): Record<string, unknown> {
  return { type: 'keyless', name: 'Open', status };
}

export function apiKeyPlan(status = 'published'): Record<string, unknown> {
  return { type: 'api-key', name: 'Gold', status };
}

export function apiKeySubscription(plan: string): Record<string, unknown> {
  return { plan, apiKeys: [{ hash: 'a'.repeat(64) }] };
}

/** Files for one API folder under apis/<id>/. */
export function apiFolder(
  id: string,
  api: Record<string, unknown>,
  plans: Record<string, Record<string, unknown>> = { open: keylessPlan() },
  subscriptions: Record<string, Record<string, unknown>> = {},
): Record<string, unknown> {
  const files: Record<string, unknown> = { [`apis/${id}/api.json`]: api };
  for (const [key, plan] of Object.entries(plans)) files[`apis/${id}/plans/${key}.json`] = plan;
  for (const [name, sub] of Object.entries(subscriptions)) files[`apis/${id}/subscriptions/${name}.json`] = sub;
  return files;
}
