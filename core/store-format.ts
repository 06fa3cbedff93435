/**
 * The store's file formats, shared by the compiler (which writes stores) and the runtime (which
 * follows one on disk or over HTTP): the `current` pointer, the read bounds, and the check that a
 * bundle's text matches the id it is stored under.
 */
import type { Bundle } from '../schemas/types.ts';
import { bundleId } from './canonical-json.ts';
import { StoreError } from './store-io.ts';

export type ReleaseKind = 'release' | 'rollback';

/** The `current` file: what every runtime following the store serves. */
export interface CurrentPointer {
  id: string;
  tag: string;
  commit: string;
  deployment: number;
  kind: ReleaseKind;
  time: string;
}

/** Largest bundle read from a store. */
export const MAX_BUNDLE_BYTES = 128 * 1024 * 1024;
/** Largest `current` pointer read. */
export const MAX_POINTER_BYTES = 64 * 1024;
export const ID = /^[0-9a-f]{64}$/;

/** Parse and verify a bundle's text against the id it is stored under. Throws StoreError. */
export function verifyBundleText(text: string, expectedId: string, where: string): Bundle {
  let bundle: Bundle;
  try {
    bundle = JSON.parse(text) as Bundle;
  } catch (error) {
    throw new StoreError('store-bundle-corrupt', `bundle ${expectedId} (${where}) is truncated or not JSON: ${(error as Error).message}`);
  }
  if (!bundle || typeof bundle !== 'object' || typeof bundle.apis !== 'object' || bundle.apis === null) {
    throw new StoreError('store-bundle-corrupt', `bundle ${expectedId} (${where}) is not a bundle`);
  }
  const actual = bundleId(bundle);
  if (actual !== expectedId || bundle.id !== expectedId) {
    throw new StoreError('store-bundle-corrupt', `bundle ${expectedId} (${where}) is corrupted: its content hashes to ${actual}; refusing it`);
  }
  return bundle;
}

/** Parse a `current` pointer (also used by runtimes following a store over HTTP). */
export function parsePointer(text: string, where: string): CurrentPointer {
  let p: CurrentPointer;
  try {
    p = JSON.parse(text) as CurrentPointer;
  } catch {
    throw new StoreError('store-current-corrupt', `${where} is not JSON`);
  }
  if (!p || typeof p !== 'object' || typeof p.id !== 'string' || !ID.test(p.id) || typeof p.deployment !== 'number') {
    throw new StoreError('store-current-corrupt', `${where} is not a release pointer (needs id and deployment)`);
  }
  return p;
}
