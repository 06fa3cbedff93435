/**
 * Canonical JSON and the content addresses built on it: the bundle id and the per-API fingerprints.
 *
 * canonicalJson is the JSON Canonicalization Scheme, RFC 8785 (JCS), for every value a JSON parser
 * can produce (I-JSON, RFC 7493): object keys sorted by UTF-16 code units, no whitespace, strings
 * escaped as ECMAScript's JSON.stringify does (\b \t \n \f \r \" \\, other controls as \u00xx in
 * lower case, everything else literal), numbers as ECMAScript's Number-to-string (shortest
 * round-trip form, -0 as 0, exponent from 1e21 and below 1e-6), true/false/null. So another tool can
 * recompute an id with any JCS library: sha256 hex of JCS({"apis": ..., "formatVersion": 1}).
 * Outside I-JSON: `undefined` and function properties are left out (array slots become null), a
 * lone surrogate is written as a \udxxx escape (RFC 8785 would refuse the input), and NaN or
 * Infinity throws (no JSON text holds them).
 */
import { createHash } from 'node:crypto';
import type { ApiFingerprint, Bundle, BundleApi } from '../schemas/types.ts';

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`canonicalJson: ${value} is not a JSON number`);
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`canonicalJson: cannot serialise ${typeof value}`);
    return text;
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i) out += ',';
      const item = value[i];
      out += item === undefined || typeof item === 'function' ? 'null' : canonicalJson(item);
    }
    return `${out}]`;
  }
  return objectText(value as Record<string, unknown>);
}

/**
 * Canonical JSON of an object whose members' canonical texts come from `text` (by default
 * canonicalJson of the member): the one place keys are ordered and skipped.
 */
function objectText(object: Record<string, unknown>, text: (key: string, value: unknown) => string = (_key, value) => canonicalJson(value)): string {
  let out = '{';
  let first = true;
  for (const key of Object.keys(object).sort()) {
    const item = object[key];
    if (item === undefined || typeof item === 'function') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${text(key, item)}`;
    first = false;
  }
  return `${out}}`;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * "Has this API changed?", answered once per API by the compiler and stored in the bundle
 * (`fingerprints`): `api` covers the definition, plans and subscriptions (equal: the exchange is kept
 * as it is), `definition` the definition alone (equal: the exchange is kept and only its plans and
 * subscriptions are swapped), `plans` / `subscriptions` each one by key (the callers of a changed
 * one reconnect). sha256 hex of each part's canonical JSON.
 */
export type { ApiFingerprint };

/** A bundle's content addresses: its id and every API's fingerprint, by API id. */
export interface ContentAddresses {
  readonly id: string;
  readonly fingerprints: Record<string, ApiFingerprint>;
}

const isRecord = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
/** A map keyed by names from the input: no prototype, so a key `__proto__` is a key like any other. */
const table = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

/**
 * The id and the fingerprints in one pass: each part of each API is serialised once, hashed for its
 * fingerprint, and its text joined into the API's text and the bundle's (the id is still sha256 hex
 * of JCS({"apis": ..., "formatVersion": ...}); fingerprints are a function of `apis`, not part of it).
 * Safe on unvalidated input (a loader checks the id before the schema).
 */
export function contentAddresses(bundle: Pick<Bundle, 'formatVersion' | 'apis'> & { environment?: string }): ContentAddresses {
  const fingerprints = table<ApiFingerprint>();
  const apisText = (apis: unknown): string => isRecord(apis)
    ? objectText(apis, (apiId, api) => {
      const { text, fingerprint } = apiAddress(api);
      fingerprints[apiId] = fingerprint;
      return text;
    })
    : canonicalJson(apis);
  // A bundle compiled for an environment: its name is part of the id (absent, the id is as before).
  const content = bundle.environment === undefined ? { formatVersion: bundle.formatVersion, apis: bundle.apis } : { formatVersion: bundle.formatVersion, apis: bundle.apis, environment: bundle.environment };
  const text = objectText(content, (key, value) => (key === 'apis' ? apisText(value) : canonicalJson(value)));
  return { id: sha256(text), fingerprints };
}

/** The id a bundle must carry: sha256 hex of canonical {formatVersion, apis[, environment]}. Verifies downloads. */
export function bundleId(bundle: Pick<Bundle, 'formatVersion' | 'apis'> & { environment?: string }): string {
  return contentAddresses(bundle).id;
}

/** One API's fingerprint (what contentAddresses computes for each API of a bundle). */
export function apiFingerprint(api: BundleApi): ApiFingerprint {
  return apiAddress(api).fingerprint;
}

function apiAddress(api: unknown): { text: string; fingerprint: ApiFingerprint } {
  const plans = table<string>();
  const subscriptions = table<string>();
  let definition = '';
  const members = (value: unknown, into: Record<string, string>): string => isRecord(value)
    ? objectText(value, (key, item) => {
      const text = canonicalJson(item);
      into[key] = sha256(text);
      return text;
    })
    : canonicalJson(value);
  const text = isRecord(api)
    ? objectText(api, (key, value) => {
      if (key === 'plans') return members(value, plans);
      if (key === 'subscriptions') return members(value, subscriptions);
      const part = canonicalJson(value);
      if (key === 'definition') definition = sha256(part);
      return part;
    })
    : canonicalJson(api);
  return { text, fingerprint: { api: sha256(text), definition, plans, subscriptions } };
}
