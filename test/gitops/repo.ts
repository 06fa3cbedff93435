/**
 * Test fixture: a real temporary git repository driven through the git command line, plus API
 * folder builders. Every repository lives under the OS temp dir and is removed by `remove()`.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { compileTree, COMPILER_VERSION, type SourceFile } from '../../compiler/index.ts';
import type { Bundle, BundleSource } from '../../schemas/types.ts';

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

let keySeq = 0;
/** An api-key subscription with a fresh (fake) key hash each call. */
export function apiKeySubscription(plan: string, hash = (++keySeq).toString(16).padStart(64, 'a')): Record<string, unknown> {
  return { plan, apiKeys: [{ hash }] };
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

/** Compile repo-style files (`apis/<id>/...`) in memory; fails the test with the diagnostics if any. */
export function compileFiles(files: Record<string, unknown>, source: Partial<BundleSource> = {}): Bundle {
  const result = compileTree(sourcesOf(files), { source: { kind: 'git', compilerVersion: COMPILER_VERSION, ...source } });
  if (!result.bundle) throw new Error(`fixture does not compile:\n${result.diagnostics.map((d) => `${d.file}:${d.line} ${d.code} ${d.message}`).join('\n')}`);
  return result.bundle;
}

/** The sources of repo-style files, relative to the APIs root (for line numbers in diagnostics). */
export function sourcesOf(files: Record<string, unknown>): SourceFile[] {
  return Object.entries(files)
    .filter(([p, v]) => p.startsWith('apis/') && v !== null)
    .map(([p, v]) => ({ path: p.slice('apis/'.length), text: typeof v === 'string' ? v : JSON.stringify(v, null, 2) }));
}
