/**
 * `--bundle FILE`: serves one bundle file, and re-reads it when it changes (writers replace it
 * by temp file + rename, so a change is always a whole file).
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { parseBundleText, reloadOnChange, type BundleSource } from './source.ts';
import { log } from '../log.ts';

export function fileSource(path: string): BundleSource {
  const file = resolve(path);
  return {
    description: `file ${file}`,
    async watch(onBundle, signal) {
      const load = async () => {
        let text: string;
        try {
          text = await readFile(file, 'utf8');
        } catch (error) {
          log.error({ file, err: (error as NodeJS.ErrnoException).code ?? (error as Error).message }, 'cannot read bundle file');
          return;
        }
        const parsed = parseBundleText(text, file, 'bundle file is not JSON; the last good bundle keeps serving');
        if (parsed !== undefined) await onBundle(parsed, file);
      };
      await load();
      if (signal.aborted) return;
      await reloadOnChange(dirname(file), (name) => name === basename(file), load, signal, 'bundle file watch failed');
    },
  };
}
