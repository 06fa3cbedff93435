/**
 * `--bundle FILE`: serves one bundle file, and re-reads it when it (or, with --trust-key, its
 * signature FILE.sig) changes; writers replace it by temp file + rename, so a change is always a
 * whole file. With trust, a file whose signature does not verify is refused (logged and counted
 * once per content) and the last good bundle keeps serving.
 */
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { parseBundleText, readSignature, reloadOnChange, type BundleSource } from './source.ts';
import { log } from '../log.ts';
import { reportRefused, SIGNATURE_SUFFIX, type BundleTrust } from '../trust.ts';

export function fileSource(path: string, options: { trust?: BundleTrust } = {}): BundleSource {
  const file = resolve(path);
  const trust = options.trust;
  const names = new Set([basename(file), `${basename(file)}${SIGNATURE_SUFFIX}`]);
  return {
    description: `file ${file}`,
    async watch(onBundle, signal, refused) {
      let lastRefused: string | undefined;
      const load = async () => {
        let bytes: Buffer;
        let signature: string | undefined;
        try {
          bytes = await readFile(file);
          if (trust) signature = await readSignature(file);
        } catch (error) {
          log.error({ file, err: (error as NodeJS.ErrnoException).code ?? (error as Error).message }, 'cannot read bundle file');
          return;
        }
        if (trust) {
          try {
            trust.verify(bytes, signature, file);
          } catch (error) {
            const key = `${(error as Error).message}\u0000${bytes.length}\u0000${signature}`;
            if (key !== lastRefused) reportRefused(error, { file }, refused);
            lastRefused = key;
            return;
          }
          lastRefused = undefined;
        }
        const parsed = parseBundleText(bytes.toString('utf8'), file, 'bundle file is not JSON; the last good bundle keeps serving');
        if (parsed !== undefined) await onBundle(parsed, file);
      };
      await load();
      if (signal.aborted) return;
      await reloadOnChange(dirname(file), (name) => names.has(name), load, signal, 'bundle file watch failed');
    },
  };
}
