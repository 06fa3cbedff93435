/**
 * `--bundle FILE`: serves one bundle file, and re-reads it when it changes (writers replace it
 * by temp file + rename, so a change is always a whole file).
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { watch } from 'chokidar';
import type { BundleSource } from './source.ts';
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
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch (error) {
          log.error({ file, err: (error as Error).message }, 'bundle file is not JSON; the last good bundle keeps serving');
          return;
        }
        await onBundle(parsed, file);
      };
      await load();
      if (signal.aborted) return;
      const watcher = watch(dirname(file), { ignoreInitial: true, depth: 0 });
      let queue = Promise.resolve();
      const changed = (path: string) => {
        if (basename(path) === basename(file)) queue = queue.then(load);
      };
      watcher.on('add', changed).on('change', changed).on('error', (error) => log.error({ err: String(error) }, 'bundle file watch failed'));
      signal.addEventListener('abort', () => void watcher.close(), { once: true });
      // Changes are seen only once the watcher is ready.
      await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
    },
  };
}
