/**
 * Loading a bundle in the runtime: parse, validate against schemas/bundle.schema.json (the `bundle`
 * ajv of core/ajv.ts; defaults filled), and check the content addresses (the id and the per-API
 * fingerprints). Anything wrong throws a BundleError; the caller keeps the last good bundle serving.
 */
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { SCHEMA_BASE, sluiceSchemas } from '../core/ajv.ts';
import type { ApiFingerprint, Bundle } from '../schemas/types.ts';
import { canonicalJson, contentAddresses, type ContentAddresses } from '../core/canonical-json.ts';

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

let validator: ValidateFunction | undefined;

function bundleValidator(): ValidateFunction {
  validator ??= sluiceSchemas('bundle').getSchema(`${SCHEMA_BASE}bundle.schema.json`);
  if (!validator) throw new Error('bundle schema not found under schemas/');
  return validator;
}

/** A loaded bundle: validated, defaults filled, and every API's fingerprint present (checked or computed). */
export type LoadedBundle = Bundle & { readonly fingerprints: Record<string, ApiFingerprint> };

/**
 * Validates a parsed bundle and checks its id and its fingerprints (computed in one pass); returns
 * it with defaults filled (a deep copy: the argument is not changed) and its fingerprints: the
 * stored ones, which must match its APIs, or for a bundle of an earlier compiler (none stored) the
 * computed ones. Throws BundleError.
 */
export function validateBundle(candidate: unknown): LoadedBundle {
  if (candidate === null || typeof candidate !== 'object') throw new BundleError('a bundle must be a JSON object');
  const bundle = structuredClone(candidate) as Bundle;
  const claimed = (candidate as Bundle).id;
  let addresses: ContentAddresses | undefined;
  if (typeof claimed === 'string' && (candidate as Bundle).apis) {
    addresses = contentAddresses(candidate as Bundle);
    if (addresses.id !== claimed) throw new BundleError(`bundle id ${claimed.slice(0, 12)}… does not match its content`);
  }
  const validate = bundleValidator();
  if (!validate(bundle)) {
    const first = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}`);
    throw new BundleError(`invalid bundle: ${first.join('; ')}`);
  }
  const { fingerprints } = addresses ?? contentAddresses(candidate as Bundle);
  if (bundle.fingerprints) {
    const stored = bundle.fingerprints;
    const wrong = [...new Set([...Object.keys(stored), ...Object.keys(fingerprints)])].sort()
      .find((apiId) => !Object.hasOwn(stored, apiId) || !Object.hasOwn(fingerprints, apiId) || canonicalJson(stored[apiId]) !== canonicalJson(fingerprints[apiId]));
    if (wrong !== undefined) throw new BundleError(`bundle fingerprints (API ${JSON.stringify(wrong)}) do not match its content: the bundle was changed after it was compiled; compile it again`);
  }
  return Object.assign(bundle, { fingerprints });
}

/** Parses and validates bundle text (a file's content). Throws BundleError. */
export function parseBundle(text: string, origin: string): LoadedBundle {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new BundleError(`${origin}: not JSON (${(error as Error).message})`);
  }
  try {
    return validateBundle(parsed);
  } catch (error) {
    throw new BundleError(`${origin}: ${(error as Error).message}`);
  }
}
