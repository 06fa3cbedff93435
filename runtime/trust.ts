/**
 * `sluice serve --trust-key PUB[,PUB…]`: the public keys whose bundle signatures (core/signature.ts)
 * the runtime accepts. Every source (--bundle, --bundles, --store folder or URL) checks a
 * candidate's exact bytes against its `.sig` once, when it reads the bundle, before handing it
 * over; a refused bundle is logged with its code (BUNDLE_UNSIGNED, BUNDLE_SIGNATURE_INVALID),
 * counted as sluice_swaps_total{result="failed",reason=CODE}, and the last good one keeps serving.
 * Without --trust-key no source checks anything (undefined trust).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { COMPACT_PUBLIC_KEY, MAX_SIGNATURE_BYTES, parsePublicKey, SignatureError, verifySignature, type TrustedKey } from '../core/signature.ts';
import { log } from './log.ts';

export { MAX_SIGNATURE_BYTES, SIGNATURE_SUFFIX, SignatureError } from '../core/signature.ts';

export interface BundleTrust {
  readonly keys: readonly TrustedKey[];
  /** Checks a bundle's bytes against its `.sig` text (undefined: none). Returns the key id; throws SignatureError. */
  verify(bytes: Uint8Array, signature: string | undefined, where: string): string;
}

/**
 * The keys of `--trust-key`: comma-separated, each a compact public key (what `sluice keygen
 * --signing` prints) or the path of a file holding one (compact or PEM). Several keys allow a
 * rotation: sign with the new key once every runtime trusts both. Throws Error naming the entry.
 */
export function parseTrustKeys(spec: string): BundleTrust {
  const keys = new Map<string, TrustedKey>();
  for (const entry of spec.split(',').map((part) => part.trim())) {
    if (!entry) throw new Error('--trust-key has an empty entry (PUB[,PUB…])');
    let key: TrustedKey;
    if (COMPACT_PUBLIC_KEY.test(entry)) key = parsePublicKey(entry, 'a --trust-key entry');
    else {
      if (!existsSync(entry) || !statSync(entry).isFile()) throw new Error(`--trust-key ${entry} is neither a public key (base64, from \`sluice keygen --signing\`) nor a file`);
      if (statSync(entry).size > 16 * 1024) throw new Error(`--trust-key ${entry} is too large for a public key file`);
      key = parsePublicKey(readFileSync(entry, 'utf8'), `--trust-key ${entry}`);
    }
    keys.set(key.id, key);
  }
  const list = [...keys.values()];
  return { keys: list, verify: (bytes, signature, where) => verifySignature(bytes, signature, list, where) };
}

/**
 * Logs a bundle a source refused before handing it over (a SignatureError, or BUNDLE_INVALID) and
 * tells `refused` (the gateway counts it as a failed swap). Sources call it once per refused
 * bundle and reason, not per poll.
 */
export function reportRefused(error: unknown, fields: Record<string, unknown>, refused?: (message: string, code: string) => void): void {
  const code = error instanceof SignatureError ? error.code : 'BUNDLE_INVALID';
  const message = (error as Error)?.message ?? String(error);
  log.error({ code, err: message, ...fields }, code === 'BUNDLE_INVALID' ? 'bundle refused: it is not a valid bundle; the last good bundle keeps serving' : 'bundle refused: its signature is not trusted; the last good bundle keeps serving');
  refused?.(message, code);
}
