/**
 * `--bundles DIR`: serves the newest *valid* bundle (`*.json`, by modification time) in a folder
 * and swaps when a newer one appears. Valid: JSON, the bundle schema, an id matching its content
 * and, with --trust-key, a signature (`<file>.sig`) by a trusted key. A newer file that is not
 * valid is logged and counted once and skipped: the newest valid one older than it is served
 * (at start too), so a broken or unsigned upload never leaves the gateway without a bundle.
 * Files starting with `.` (temp files) are ignored. A file is checked once per version
 * (modification time and size of it and of its signature), not on every folder change.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readSignature, reloadOnChange, type BundleSource } from './source.ts';
import { validateBundle } from '../bundle.ts';
import { log } from '../log.ts';
import { reportRefused, SIGNATURE_SUFFIX, type BundleTrust } from '../trust.ts';

const isBundleFile = (name: string) => name.endsWith('.json') && !name.startsWith('.');
const isWatched = (name: string) => isBundleFile(name) || (name.endsWith(`.json${SIGNATURE_SUFFIX}`) && !name.startsWith('.'));

interface Candidate {
  readonly path: string;
  readonly mtime: number;
  /** Identifies this version of the file and of its signature. */
  readonly stamp: string;
}

/** Bundle files, newest first. */
async function candidates(dir: string): Promise<Candidate[]> {
  const found: Candidate[] = [];
  for (const name of await readdir(dir)) {
    if (!isBundleFile(name)) continue;
    const path = join(dir, name);
    try {
      const info = await stat(path);
      if (!info.isFile()) continue;
      const sig = await stat(`${path}${SIGNATURE_SUFFIX}`).then((s) => `${s.mtimeMs}:${s.size}`, () => '-');
      found.push({ path, mtime: info.mtimeMs, stamp: `${info.mtimeMs}:${info.size}:${sig}` });
    } catch {
      // removed meanwhile
    }
  }
  return found.sort((a, b) => b.mtime - a.mtime || (a.path < b.path ? 1 : a.path > b.path ? -1 : 0));
}

export function dirSource(path: string, options: { trust?: BundleTrust } = {}): BundleSource {
  const dir = resolve(path);
  const trust = options.trust;
  return {
    description: `dir ${dir}`,
    async watch(onBundle, signal, refused) {
      /** Versions found invalid (path -> stamp), so each is checked and reported once. */
      const invalid = new Map<string, string>();
      let handed: { path: string; stamp: string } | undefined;
      /** The candidate parsed when valid; undefined after reporting why it is not. */
      const check = async (candidate: Candidate): Promise<unknown> => {
        try {
          const bytes = await readFile(candidate.path);
          if (trust) trust.verify(bytes, await readSignature(candidate.path), candidate.path);
          const parsed: unknown = JSON.parse(bytes.toString('utf8'));
          validateBundle(parsed);
          return parsed;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // removed meanwhile
          invalid.set(candidate.path, candidate.stamp);
          reportRefused(error, { dir, file: candidate.path, serving: handed?.path ?? null }, refused);
          return undefined;
        }
      };
      const load = async () => {
        let list: Candidate[];
        try {
          list = await candidates(dir);
        } catch (error) {
          log.error({ dir, err: (error as NodeJS.ErrnoException).code ?? (error as Error).message }, 'cannot read bundles folder');
          return;
        }
        for (const [known] of invalid) if (!list.some((c) => c.path === known)) invalid.delete(known);
        for (const candidate of list) {
          if (invalid.get(candidate.path) === candidate.stamp) continue;
          if (handed && handed.path === candidate.path && handed.stamp === candidate.stamp) return; // already served
          const parsed = await check(candidate);
          if (parsed === undefined) continue;
          handed = { path: candidate.path, stamp: candidate.stamp };
          await onBundle(parsed, candidate.path);
          return;
        }
        log.warn({ dir, refused: invalid.size }, list.length ? 'no valid bundle in the folder; the last good bundle keeps serving' : 'no bundle in the folder yet');
      };
      await load();
      if (signal.aborted) return;
      await reloadOnChange(dir, isWatched, load, signal, 'bundles folder watch failed');
    },
  };
}
