/**
 * Canonical JSON and the content addresses built on it: the bundle id and the per-API fingerprint.
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
import type { Bundle, BundleApi } from '../schemas/types.ts';

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
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = object[key];
    if (item === undefined || typeof item === 'function') continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${canonicalJson(item)}`;
    first = false;
  }
  return `${out}}`;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The id a bundle must carry: sha256 hex of canonical {formatVersion, apis}. Verifies downloads. */
export function bundleId(bundle: Pick<Bundle, 'formatVersion' | 'apis'>): string {
  return sha256(canonicalJson({ formatVersion: bundle.formatVersion, apis: bundle.apis }));
}

/**
 * "Has this API changed?", answered once per API and deploy: `api` covers the definition, plans and
 * subscriptions (equal: the exchange is kept as it is), `definition` the definition alone (equal:
 * the exchange is kept and only its plans and subscriptions are swapped). sha256 hex of each part's
 * canonical JSON.
 */
export interface ApiFingerprint {
  readonly api: string;
  readonly definition: string;
}

export function apiFingerprint(api: BundleApi): ApiFingerprint {
  return { api: sha256(canonicalJson(api)), definition: sha256(canonicalJson(api.definition)) };
}
