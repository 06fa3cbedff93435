/**
 * Where bundles come from. A source reports each new candidate bundle (parsed JSON, not yet
 * validated) to `onBundle`, starting with the current one, until `signal` aborts. It never throws
 * for a bad bundle: it logs and waits for the next one (the RouterSwitch validates, and keeps the
 * last good one serving when a candidate fails).
 */
import { basename } from 'node:path';
import { watch } from 'chokidar';
import { readBounded } from '../../core/store-io.ts';
import { log } from '../log.ts';
import { MAX_SIGNATURE_BYTES, SIGNATURE_SUFFIX } from '../trust.ts';

export interface BundleSource {
  /** For logs and /status, e.g. `file /srv/bundle.json`, `dir /srv/bundles`, `store https://…`. */
  readonly description: string;
  /**
   * Resolves once the first candidate was reported (or the source gave up on it); keeps watching
   * until `signal` aborts. `refused` hears why a source refused a bundle before handing it over
   * (signature, not a valid bundle) and its code (BUNDLE_UNSIGNED, BUNDLE_SIGNATURE_INVALID,
   * BUNDLE_INVALID), for /status's lastError and the gateway's failed-swap count.
   */
  watch(onBundle: (candidate: unknown, origin: string) => Promise<void>, signal: AbortSignal, refused?: (message: string, code: string) => void): Promise<void>;
  /** Store sources: the release (tag, commit, deployment) a bundle it handed over belongs to, for /status. */
  release?(bundleId: string): Record<string, unknown> | undefined;
}

/**
 * For file-backed sources: the bundle in `text`, or undefined after logging `notJson` (with the
 * file and the parse error) when it is not JSON.
 */
export function parseBundleText(text: string, file: string, notJson: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    log.error({ file, err: (error as Error).message }, notJson);
    return undefined;
  }
}

/** For file-backed sources: the text of `file`'s detached signature (`file.sig`), undefined when there is none. */
export async function readSignature(file: string): Promise<string | undefined> {
  return readBounded(`${file}${SIGNATURE_SUFFIX}`, MAX_SIGNATURE_BYTES, 'store-bundle-corrupt');
}

/**
 * For file-backed sources: runs `load` again (one run at a time, in order) whenever a file directly
 * in `dir` whose name `accepts` is added or changed, until `signal` aborts; a watch error is
 * logged as `failed`. Resolves once the watcher is ready (changes are seen only from then on).
 */
export async function reloadOnChange(dir: string, accepts: (name: string) => boolean, load: () => Promise<void>, signal: AbortSignal, failed: string): Promise<void> {
  const watcher = watch(dir, { ignoreInitial: true, depth: 0 });
  let queue = Promise.resolve();
  const changed = (path: string) => {
    if (accepts(basename(path))) queue = queue.then(load);
  };
  watcher.on('add', changed).on('change', changed).on('error', (error) => log.error({ err: String(error) }, failed));
  signal.addEventListener('abort', () => void watcher.close(), { once: true });
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
}
