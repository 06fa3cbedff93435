/**
 * The store: a folder holding content-addressed bundles, the release log and the `current` pointer.
 *
 * ```
 * STORE/bundles/<id>.json   one bundle per id (verified against its id whenever read)
 * STORE/bundles/<id>.json.sig  its detached Ed25519 signature, when compiled with --sign-key (signature.ts)
 * STORE/releases.jsonl      the release log, one JSON object per line, oldest first
 * STORE/saved.jsonl         saved (non-release) bundles compiled from commits and branches
 * STORE/current             JSON pointer to the deployed release: {id, tag, commit, deployment, kind, time}
 * STORE/.lock               held (O_EXCL) by the one writer changing the log or `current`
 * ```
 *
 * Contracts: every file is written atomically (temp file, fsync, rename: store-io.ts), so a reader
 * (a runtime polling `current`, a static file server) never sees half a file. Releases, rollbacks
 * and saves run under the lock, which makes "read the previous release, check the release rules
 * against it, append, move current" one step even when two compiles run at once. A release or a
 * save creates the store; a rollback needs an existing one, and repairs a corrupted `current`.
 * Taking the lock also removes the temp files a killed writer left (store-io removeStaleTemps).
 * A signed release writes the signature of the stored bundle's exact bytes before `current` moves.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Bundle } from '../schemas/types.ts';
import { bundleId, canonicalJson } from '../core/canonical-json.ts';
import { SIGNATURE_SUFFIX } from '../core/signature.ts';
import { ATOMIC_TEMP, readBounded, readBoundedBytes, readJsonLines, removeStaleTemps, StoreError, withLock, writeAtomic, writeJsonLines } from '../core/store-io.ts';
import { ID, MAX_BUNDLE_BYTES, MAX_POINTER_BYTES, parsePointer, verifyBundleText, type CurrentPointer, type ReleaseKind } from '../core/store-format.ts';

export { StoreError, writeAtomic, type StoreErrorCode } from '../core/store-io.ts';
export { MAX_BUNDLE_BYTES, MAX_POINTER_BYTES, parsePointer, verifyBundleText, type CurrentPointer, type ReleaseKind } from '../core/store-format.ts';

/** One line of releases.jsonl. */
export interface ReleaseEntry {
  /** 1, 2, 3…: one per deploy, rollbacks included. */
  deployment: number;
  kind: ReleaseKind;
  tag: string;
  commit: string;
  bundleId: string;
  /** ISO time the entry was written. */
  time: string;
  compilerVersion: string;
  /** The repository the release was compiled from. */
  repo?: string;
  /** rollback: the deployment whose bundle was restored. */
  rollbackOf?: number;
}

/** One line of saved.jsonl. */
export interface SavedEntry {
  ref: string;
  commit: string;
  bundleId: string;
  time: string;
  compilerVersion: string;
}

/** Signs a stored bundle's bytes: returns the `.sig` file's text (signature.ts signatureText). */
export type BundleSigner = (bytes: Uint8Array) => string;

export interface StoreOptions {
  /** How long to wait for the lock before giving up. Default 30 s. */
  lockTimeoutMs?: number;
  /** A lock older than this is stale whoever holds it. Default 120 s (a holder keeps it for milliseconds). */
  staleLockMs?: number;
}

const MAX_LOG_BYTES = 64 * 1024 * 1024;

export class Store {
  readonly dir: string;
  private readonly lockTimeoutMs: number;
  private readonly staleLockMs: number;

  constructor(dir: string, options: StoreOptions = {}) {
    this.dir = path.resolve(dir);
    this.lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
    this.staleLockMs = options.staleLockMs ?? 120_000;
  }

  bundlePath(id: string): string {
    if (!ID.test(id)) throw new StoreError('store-bundle-missing', `"${id}" is not a bundle id`);
    return path.join(this.dir, 'bundles', `${id}.json`);
  }

  /** Read and verify a bundle. Throws StoreError (missing, truncated, corrupted). */
  async readBundle(id: string): Promise<Bundle> {
    const file = this.bundlePath(id);
    const text = await readBounded(file, MAX_BUNDLE_BYTES, 'store-bundle-corrupt');
    if (text === undefined) throw new StoreError('store-bundle-missing', `bundle ${id} is not in the store ${this.dir}`);
    return verifyBundleText(text, id, file);
  }

  /**
   * Store a bundle under its id. An existing file that verifies is kept (same content); a bad one
   * is replaced. With `sign`, the stored file's exact bytes are signed into `<file>.sig`.
   */
  async putBundle(bundle: Bundle, sign?: BundleSigner): Promise<string> {
    const id = bundleId(bundle);
    if (id !== bundle.id) throw new StoreError('store-bundle-corrupt', `bundle ${bundle.id} hashes to ${id}; refusing to store it`);
    const file = this.bundlePath(id);
    let stored: Uint8Array | undefined;
    try {
      stored = await readBoundedBytes(file, MAX_BUNDLE_BYTES, 'store-bundle-corrupt');
      if (stored) verifyBundleText(Buffer.from(stored).toString('utf8'), id, file);
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      stored = undefined;
    }
    if (!stored) {
      stored = Buffer.from(`${canonicalJson(bundle)}\n`);
      await writeAtomic(file, stored);
    }
    if (sign) await writeAtomic(`${file}${SIGNATURE_SUFFIX}`, sign(stored));
    return file;
  }

  async releases(): Promise<ReleaseEntry[]> {
    return readJsonLines<ReleaseEntry>(path.join(this.dir, 'releases.jsonl'), MAX_LOG_BYTES);
  }

  async saved(): Promise<SavedEntry[]> {
    return readJsonLines<SavedEntry>(path.join(this.dir, 'saved.jsonl'), MAX_LOG_BYTES);
  }

  /** Whether the store's folder exists (a store that was never written to does not). */
  async exists(): Promise<boolean> {
    return fs.stat(this.dir).then((stats) => stats.isDirectory(), () => false);
  }

  /**
   * The deployed release, or undefined when nothing was released yet. A corrupted pointer is a
   * StoreError('store-current-corrupt') that says how to repair it (`sluice rollback TAG`).
   */
  async current(): Promise<CurrentPointer | undefined> {
    const file = path.join(this.dir, 'current');
    const text = await readBounded(file, MAX_POINTER_BYTES, 'store-current-corrupt');
    if (text === undefined) return undefined;
    try {
      return parsePointer(text, file);
    } catch (error) {
      if (error instanceof StoreError) throw new StoreError(error.code, `${error.message}; \`sluice rollback TAG --store ${this.dir}\` rewrites it`);
      throw error;
    }
  }

  /** `current` without throwing on a corrupted pointer: the pointer, or the problem (for rollback and history). */
  async currentOrProblem(): Promise<{ pointer?: CurrentPointer; corrupt?: StoreError }> {
    try {
      return { pointer: await this.current() };
    } catch (error) {
      if (error instanceof StoreError && error.code === 'store-current-corrupt') return { corrupt: error };
      throw error;
    }
  }

  /**
   * Deploy `bundle` as a release of `info.tag`. Under the lock: reads the current release, asks
   * `check` for problems against it (an empty list allows the release), stores the bundle, appends
   * to the log and moves `current`. Releasing the tag and bundle that are already current changes
   * nothing and returns `unchanged`.
   */
  async release<D>(
    bundle: Bundle,
    info: { tag: string; commit: string; compilerVersion: string; repo?: string },
    check: (previous: { pointer: CurrentPointer; bundle: Bundle } | undefined) => D[],
    sign?: BundleSigner,
  ): Promise<{ entry: ReleaseEntry; unchanged: boolean; problems: D[] }> {
    return this.withLock(async () => {
      const entries = await this.releases();
      const pointer = await this.current();
      if (pointer && pointer.id === bundle.id && pointer.tag === info.tag) {
        if (sign) await this.putBundle(bundle, sign); // releasing again with a key signs what is served
        const entry = entries.find((e) => e.deployment === pointer.deployment) ?? toEntry(pointer, info.compilerVersion);
        return { entry, unchanged: true, problems: [] };
      }
      const previous = pointer ? { pointer, bundle: await this.readBundle(pointer.id) } : undefined;
      const problems = check(previous);
      const entry: ReleaseEntry = {
        deployment: nextDeployment(entries),
        kind: 'release',
        tag: info.tag,
        commit: info.commit,
        bundleId: bundle.id,
        time: new Date().toISOString(),
        compilerVersion: info.compilerVersion,
        ...(info.repo ? { repo: info.repo } : {}),
      };
      if (problems.length > 0) return { entry, unchanged: false, problems };
      await this.putBundle(bundle, sign);
      await this.commitEntry(entries, entry);
      return { entry, unchanged: false, problems };
    });
  }

  /**
   * Re-point `current` to the latest deployment of `tag` and log it as a new deployment of kind
   * rollback. Its bundle is verified first. Already current: `unchanged`. The store must exist
   * (StoreError 'store-missing'); a corrupted `current` is replaced, since a rollback is the way
   * out of a broken deploy.
   */
  async rollback(tag: string): Promise<{ entry: ReleaseEntry; unchanged: boolean; restored: ReleaseEntry }> {
    if (!(await this.exists())) throw new StoreError('store-missing', `there is no store at ${this.dir}`);
    return this.withLock(async () => {
      const entries = await this.releases();
      const restored = [...entries].reverse().find((e) => e.tag === tag);
      if (!restored) {
        const known = [...new Set(entries.map((e) => e.tag))].join(', ') || 'none';
        throw new StoreError('store-unknown-release', `no release "${tag}" in the store ${this.dir} (releases: ${known})`);
      }
      await this.readBundle(restored.bundleId);
      const { pointer } = await this.currentOrProblem();
      if (pointer && pointer.tag === tag && pointer.id === restored.bundleId) {
        return { entry: entries.find((e) => e.deployment === pointer.deployment) ?? restored, unchanged: true, restored };
      }
      const entry: ReleaseEntry = {
        deployment: nextDeployment(entries),
        kind: 'rollback',
        tag,
        commit: restored.commit,
        bundleId: restored.bundleId,
        time: new Date().toISOString(),
        compilerVersion: restored.compilerVersion,
        ...(restored.repo ? { repo: restored.repo } : {}),
        rollbackOf: restored.deployment,
      };
      await this.commitEntry(entries, entry);
      return { entry, unchanged: false, restored };
    });
  }

  /** Store a saved bundle (a commit or branch): never touches the release log or `current`. */
  async save(bundle: Bundle, info: { ref: string; commit: string; compilerVersion: string }, sign?: BundleSigner): Promise<SavedEntry> {
    return this.withLock(async () => {
      await this.putBundle(bundle, sign);
      const saved = await this.saved();
      const entry: SavedEntry = { ref: info.ref, commit: info.commit, bundleId: bundle.id, time: new Date().toISOString(), compilerVersion: info.compilerVersion };
      await writeJsonLines(path.join(this.dir, 'saved.jsonl'), [...saved, entry]);
      return entry;
    });
  }

  /** Run `fn` holding the store's writer lock (creating the store's folders first). */
  async withLock<T>(fn: () => Promise<T>): Promise<T> {
    try {
      await fs.mkdir(path.join(this.dir, 'bundles'), { recursive: true });
    } catch (error) {
      throw new StoreError('store-io', `cannot create the store ${this.dir}: ${(error as Error).message}`);
    }
    return withLock(this.dir, { timeoutMs: this.lockTimeoutMs, staleMs: this.staleLockMs }, async () => {
      // Holding the lock, no other writer of this store is writing: what a killed one left goes.
      for (const dir of [this.dir, path.join(this.dir, 'bundles')]) await removeStaleTemps(dir, ATOMIC_TEMP);
      return fn();
    });
  }

  private async commitEntry(entries: ReleaseEntry[], entry: ReleaseEntry): Promise<void> {
    await writeJsonLines(path.join(this.dir, 'releases.jsonl'), [...entries, entry]);
    const pointer: CurrentPointer = { id: entry.bundleId, tag: entry.tag, commit: entry.commit, deployment: entry.deployment, kind: entry.kind, time: entry.time };
    await writeAtomic(path.join(this.dir, 'current'), `${JSON.stringify(pointer)}\n`);
  }
}

function nextDeployment(entries: ReleaseEntry[]): number {
  return entries.reduce((max, e) => Math.max(max, e.deployment), 0) + 1;
}

function toEntry(p: CurrentPointer, compilerVersion: string): ReleaseEntry {
  return { deployment: p.deployment, kind: p.kind, tag: p.tag, commit: p.commit, bundleId: p.id, time: p.time, compilerVersion };
}
