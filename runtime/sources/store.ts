/**
 * `--store DIR|URL`: follow a store's `current` pointer and hand each newly deployed release's
 * bundle to the runtime. Only releases are ever served (saved bundles are never pointed at).
 *
 * - DIR: watches `DIR/current` (chokidar) with a light poll as a fallback (network file systems,
 *   missed events). Writers replace `current` by rename, so a read is always a whole file.
 * - http(s)://…: a store published by any static file server. Polls `URL/current` with
 *   If-None-Match (ETag; 304 costs nothing), fetches `URL/bundles/<id>.json`. Bounded sizes and
 *   time-outs on every request. With `token` (SLUICE_STORE_TOKEN / --store-token-file), every
 *   request carries `Authorization: Bearer TOKEN`; a 401/403 is logged saying which to set or fix.
 *
 * Contract: a bundle is handed over only after its content hashes to its id (compiler bundleId)
 * and, with `trust` (--trust-key), after its exact bytes verified against `bundles/<id>.json.sig`
 * (checked first, before the bundle is parsed; BUNDLE_UNSIGNED / BUNDLE_SIGNATURE_INVALID);
 * a corrupted, truncated or oversized bundle is refused and logged, the last good one keeps
 * serving, and it is retried on the next poll (a half-uploaded file may still complete). An
 * unchanged bundle id is not handed over again, but a new release of the same content (another
 * tag, a rollback) updates the release info `/status` reports (tag, commit, deployment).
 */
import { basename, join, resolve } from 'node:path';
import { watch } from 'chokidar';
import type { Bundle } from '../../schemas/types.ts';
import { MAX_BUNDLE_BYTES, MAX_POINTER_BYTES, parsePointer, verifyBundleText, type CurrentPointer } from '../../core/store-format.ts';
import { readBounded as readFileBounded, readBoundedBytes } from '../../core/store-io.ts';
import { readResponseBounded } from '../http/response-body.ts';
import { log } from '../log.ts';
import { MAX_SIGNATURE_BYTES, reportRefused, SIGNATURE_SUFFIX, SignatureError, type BundleTrust } from '../trust.ts';
import type { BundleSource } from './source.ts';

/** What /status reports about the release being served. */
export type ServedRelease = {
  readonly store: string;
  readonly tag: string;
  readonly commit: string;
  readonly deployment: number;
  readonly kind: string;
  readonly bundleId: string;
  /** When the release was made (from the pointer). */
  readonly releasedAt: string;
};

export interface StoreSourceOptions {
  /** Fallback poll for a folder, main poll for a URL. Default 1000 ms. */
  pollMs?: number;
  /** Time-out for one HTTP request (pointer or bundle). Default 30 s. */
  requestTimeoutMs?: number;
  /** Largest bundle accepted. Default MAX_BUNDLE_BYTES (128 MiB). */
  maxBundleBytes?: number;
  /** --trust-key: only bundles signed by one of these keys are handed over. */
  trust?: BundleTrust;
  /** http(s) stores: the bearer token sent with every request. */
  token?: string;
}

/** A bundle source following the store at `location` (a folder or an http(s) URL). */
export function storeSource(location: string, options: StoreSourceOptions = {}): BundleSource & { release(bundleId: string): ServedRelease | undefined } {
  const remote = /^https?:\/\//i.test(location);
  const where = remote ? location.replace(/\/+$/, '') : resolve(location);
  const reader = remote ? httpReader(where, options) : folderReader(where, options);
  const pollMs = options.pollMs ?? 1000;
  /** Release info by bundle id: the latest pointer seen for each id handed over. */
  const releases = new Map<string, ServedRelease>();
  let handed: string | undefined;
  let refused: string | undefined;
  /** Why `refused` was refused: a new reason is logged (and a signature refusal counted) again. */
  let refusedWhy: string | undefined;
  let unreachable = false;

  const check = async (onBundle: (candidate: unknown, origin: string) => Promise<void>, signal: AbortSignal, force: boolean, onRefused?: (message: string, code: string) => void) => {
    let pointer: CurrentPointer | undefined;
    try {
      pointer = await reader.pointer(signal, force || refused !== undefined || unreachable);
      if (unreachable) log.info({ store: where }, 'the store pointer is readable again');
      unreachable = false;
    } catch (error) {
      if (signal.aborted) return;
      // Logged once per outage, not on every poll.
      log[unreachable ? 'debug' : 'error']({ store: where, err: describe(error) }, 'cannot read the store pointer; the last good bundle keeps serving');
      unreachable = true;
      return;
    }
    if (!pointer) return;
    const release: ServedRelease = {
      store: where, tag: pointer.tag, commit: pointer.commit, deployment: pointer.deployment, kind: pointer.kind, bundleId: pointer.id, releasedAt: pointer.time,
    };
    if (pointer.id === handed) {
      releases.set(pointer.id, release); // same content, new release (e.g. a rollback to it)
      refused = undefined;
      return;
    }
    let bundle: Bundle;
    try {
      bundle = await reader.bundle(pointer.id, signal);
    } catch (error) {
      if (signal.aborted) return;
      const why = describe(error);
      const again = refused === pointer.id && refusedWhy === why;
      refused = pointer.id;
      refusedWhy = why;
      const fields = { store: where, tag: pointer.tag, deployment: pointer.deployment, bundleId: pointer.id, serving: handed ?? null };
      if (error instanceof SignatureError) {
        if (!again) reportRefused(error, fields, onRefused);
        else log.debug({ ...fields, code: error.code }, 'still refusing the release bundle');
        return;
      }
      log[again ? 'debug' : 'error']({ ...fields, err: why }, 'refusing the release bundle; the last good bundle keeps serving');
      return;
    }
    refused = undefined;
    refusedWhy = undefined;
    releases.set(pointer.id, release);
    handed = pointer.id;
    log.info({ event: 'release', store: where, tag: pointer.tag, deployment: pointer.deployment, commit: pointer.commit, bundleId: pointer.id }, 'new release in the store');
    await onBundle(bundle, `store ${where} ${pointer.tag} (deployment ${pointer.deployment})`);
  };

  return {
    description: `store ${where}`,
    release: (bundleId) => releases.get(bundleId),
    async watch(onBundle, signal, onRefused) {
      let queue = Promise.resolve();
      const enqueue = (force: boolean) => {
        queue = queue.then(() => (signal.aborted ? undefined : check(onBundle, signal, force, onRefused)));
        return queue;
      };
      await enqueue(true);
      if (signal.aborted) return;
      const stopWatching = reader.watch?.(() => void enqueue(true));
      const timer = setInterval(() => void enqueue(false), pollMs);
      timer.unref();
      signal.addEventListener('abort', () => {
        clearInterval(timer);
        stopWatching?.();
      }, { once: true });
    },
  };
}

interface StoreReader {
  /** The pointer, or undefined when nothing was released yet or (polls) nothing changed. */
  pointer(signal: AbortSignal, force: boolean): Promise<CurrentPointer | undefined>;
  /** A verified bundle. Throws on anything wrong. */
  bundle(id: string, signal: AbortSignal): Promise<Bundle>;
  /** Change notifications, where the medium has them; returns the stop function. */
  watch?(changed: () => void): () => void;
}

function folderReader(dir: string, options: StoreSourceOptions): StoreReader {
  const maxBytes = options.maxBundleBytes ?? MAX_BUNDLE_BYTES;
  const currentFile = join(dir, 'current');
  let lastText: string | undefined;
  let warned = false;
  return {
    async pointer(_signal, force) {
      const text = await readFileBounded(currentFile, MAX_POINTER_BYTES, 'store-current-corrupt');
      if (text === undefined) {
        if (!warned) log.warn({ store: dir }, 'nothing released in the store yet');
        warned = true;
        return undefined;
      }
      if (!force && text === lastText) return undefined;
      lastText = text;
      return parsePointer(text, currentFile);
    },
    async bundle(id) {
      const file = join(dir, 'bundles', `${id}.json`);
      const bytes = await readBoundedBytes(file, maxBytes, 'store-bundle-corrupt');
      if (bytes === undefined) throw new Error(`${file} does not exist`);
      if (options.trust) options.trust.verify(bytes, await readFileBounded(`${file}${SIGNATURE_SUFFIX}`, MAX_SIGNATURE_BYTES, 'store-bundle-corrupt'), file);
      return verifyBundleText(bytes.toString('utf8'), id, file);
    },
    watch(changed) {
      const watcher = watch(dir, { ignoreInitial: true, depth: 0 });
      const onEvent = (path: string) => {
        if (basename(path) === 'current') changed();
      };
      watcher.on('add', onEvent).on('change', onEvent).on('error', (error) => log.error({ store: dir, err: String(error) }, 'store watch failed; polling continues'));
      return () => void watcher.close();
    },
  };
}

function httpReader(base: string, options: StoreSourceOptions): StoreReader {
  const timeoutMs = options.requestTimeoutMs ?? 30_000;
  const maxBytes = options.maxBundleBytes ?? MAX_BUNDLE_BYTES;
  let etag: string | undefined;
  let lastText: string | undefined;
  const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  // fetch drops Authorization when a redirect leads to another origin.
  const request = async (url: string, signal: AbortSignal, headers: Record<string, string> = {}) =>
    fetch(url, { headers: { 'cache-control': 'no-cache', ...auth, ...headers }, signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]), redirect: 'follow' });
  const answered = (url: string, status: number) => new Error(`GET ${url} answered ${status}${refusedHint(status, options.token !== undefined)}`);
  /** A `.sig` file's text; undefined when the store has none (404). */
  const signatureOf = async (url: string, signal: AbortSignal): Promise<string | undefined> => {
    const res = await request(url, signal);
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw answered(url, res.status);
    }
    return (await readResponseBounded(res, MAX_SIGNATURE_BYTES, url)).toString('utf8');
  };
  return {
    async pointer(signal, force) {
      const url = `${base}/current`;
      const res = await request(url, signal, etag && !force ? { 'if-none-match': etag } : {});
      if (res.status === 304) return undefined;
      if (res.status === 404) {
        await res.body?.cancel();
        return undefined; // nothing released yet
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw answered(url, res.status);
      }
      const text = (await readResponseBounded(res, MAX_POINTER_BYTES, url)).toString('utf8');
      etag = res.headers.get('etag') ?? undefined;
      if (!force && text === lastText) return undefined;
      lastText = text;
      return parsePointer(text, url);
    },
    async bundle(id, signal) {
      const url = `${base}/bundles/${id}.json`;
      const res = await request(url, signal);
      if (res.status !== 200) {
        await res.body?.cancel();
        throw answered(url, res.status);
      }
      const bytes = await readResponseBounded(res, maxBytes, url);
      if (options.trust) options.trust.verify(bytes, await signatureOf(`${url}${SIGNATURE_SUFFIX}`, signal), url);
      return verifyBundleText(bytes.toString('utf8'), id, url);
    },
  };
}

/** What to do about a 401/403 from a store. */
function refusedHint(status: number, withToken: boolean): string {
  if (status !== 401 && status !== 403) return '';
  return withToken
    ? ': the store refused the token; check SLUICE_STORE_TOKEN / --store-token-file'
    : ': the store wants a token; give it in SLUICE_STORE_TOKEN or --store-token-file FILE';
}

/** An error's message with its cause (fetch says only "fetch failed"; the cause says ECONNREFUSED). */
function describe(error: unknown): string {
  const e = error as Error & { cause?: { message?: string; code?: string } };
  const cause = e.cause ? e.cause.code ?? e.cause.message : undefined;
  return cause ? `${e.message}: ${cause}` : String(e?.message ?? error);
}

