/**
 * `--bundles DIR`: serves the newest bundle (`*.json`, by modification time) written to a folder
 * and swaps when a newer one appears. Files starting with `.` (temp files) are ignored; a newest
 * file that is not a valid bundle is logged and the last good one keeps serving.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseBundleText, reloadOnChange, type BundleSource } from './source.ts';
import { log } from '../log.ts';

const isBundleFile = (name: string) => name.endsWith('.json') && !name.startsWith('.');

async function newest(dir: string): Promise<string | undefined> {
  let best: { path: string; mtime: number } | undefined;
  for (const name of await readdir(dir)) {
    if (!isBundleFile(name)) continue;
    const path = join(dir, name);
    try {
      const info = await stat(path);
      if (info.isFile() && (!best || info.mtimeMs > best.mtime || (info.mtimeMs === best.mtime && path > best.path))) best = { path, mtime: info.mtimeMs };
    } catch {
      // removed meanwhile
    }
  }
  return best?.path;
}

export function dirSource(path: string): BundleSource {
  const dir = resolve(path);
  return {
    description: `dir ${dir}`,
    async watch(onBundle, signal) {
      let lastText: string | undefined;
      const load = async () => {
        let file: string | undefined;
        try {
          file = await newest(dir);
        } catch (error) {
          log.error({ dir, err: (error as NodeJS.ErrnoException).code ?? (error as Error).message }, 'cannot read bundles folder');
          return;
        }
        if (!file) {
          log.warn({ dir }, 'no bundle in the folder yet');
          return;
        }
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch {
          return;
        }
        if (text === lastText) return;
        lastText = text;
        const parsed = parseBundleText(text, file, 'newest bundle is not JSON; the last good bundle keeps serving');
        if (parsed !== undefined) await onBundle(parsed, file);
      };
      await load();
      if (signal.aborted) return;
      await reloadOnChange(dir, isBundleFile, load, signal, 'bundles folder watch failed');
    },
  };
}
