/**
 * Detached bundle signatures: Ed25519 over the exact bytes of a bundle file, written beside it as
 * `<bundle file>.sig` (`bundles/<id>.json.sig` in a store). `sluice compile --sign-key` writes them,
 * `sluice serve --trust-key` checks them. The bytes, not the id, are signed: an id is recomputable
 * by anyone who edits a bundle, a signature is not.
 *
 * The `.sig` file is one line of JSON: `{"alg":"ed25519","keyId":"<16 hex>","signature":"<base64>"}`.
 * `keyId` (the first 16 hex digits of the SHA-256 of the public key's SPKI DER) only selects the
 * trusted key to try and names it in logs; the signature is what is checked.
 *
 * Public keys are written and read in one compact form: the base64 of their SPKI DER (60
 * characters, starting `MCowBQYDK2VwAyEA`), which is also the body of the PEM; PEM is read too.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export const SIGNATURE_SUFFIX = '.sig';
/** Largest `.sig` file read (one is about 150 bytes). */
export const MAX_SIGNATURE_BYTES = 4096;

export type SignatureCode = 'BUNDLE_UNSIGNED' | 'BUNDLE_SIGNATURE_INVALID';

/** A bundle refused by signature: BUNDLE_UNSIGNED (no `.sig`) or BUNDLE_SIGNATURE_INVALID. */
export class SignatureError extends Error {
  constructor(readonly code: SignatureCode, message: string) {
    super(message);
    this.name = 'SignatureError';
  }
}

/** A public key the runtime trusts, with its id. */
export interface TrustedKey {
  readonly id: string;
  readonly key: KeyObject;
}

/** Compact public key text (base64 SPKI DER) matched whole. */
export const COMPACT_PUBLIC_KEY = /^MCowBQYDK2VwAyEA[A-Za-z0-9+/]{43}=$/;

/** The key id: first 16 hex digits of sha256(SPKI DER). */
export function keyId(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
}

/** The compact text of a public key (base64 SPKI DER). */
export function publicKeyText(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

/**
 * An Ed25519 public key from its compact text or a PEM (`-----BEGIN PUBLIC KEY-----`). Throws an
 * Error naming `where` (never the text) when it is neither or not Ed25519.
 */
export function parsePublicKey(text: string, where: string): TrustedKey {
  const trimmed = text.trim();
  // createPublicKey would derive the public key from a private one: a runtime must never hold it.
  if (trimmed.includes('PRIVATE KEY')) throw new Error(`${where} is a private key; give the public key (FILE.pub, or what \`sluice keygen --signing\` printed)`);
  let key: KeyObject;
  try {
    key = COMPACT_PUBLIC_KEY.test(trimmed)
      ? createPublicKey({ key: Buffer.from(trimmed, 'base64'), format: 'der', type: 'spki' })
      : createPublicKey({ key: trimmed, format: 'pem' });
  } catch {
    throw new Error(`${where} is not a public key (expected the base64 form printed by \`sluice keygen --signing\`, or a PEM PUBLIC KEY)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${where} is a ${key.asymmetricKeyType} key; bundle signatures use Ed25519 (\`sluice keygen --signing\`)`);
  return { id: keyId(key), key };
}

/** An Ed25519 private key from a PKCS#8 PEM. Throws an Error naming `where` (never the key). */
export function parsePrivateKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error(`${where} is not a PEM private key (\`sluice keygen --signing --out FILE\` makes one)`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${where} is a ${key.asymmetricKeyType} key; bundle signatures use Ed25519 (\`sluice keygen --signing\`)`);
  return key;
}

/** The `.sig` file text for `bytes` signed with `privateKey`. */
export function signatureText(bytes: Uint8Array, privateKey: KeyObject): string {
  const id = keyId(createPublicKey(privateKey));
  return `${JSON.stringify({ alg: 'ed25519', keyId: id, signature: sign(null, bytes, privateKey).toString('base64') })}\n`;
}

/**
 * Checks `signature` (a `.sig` file's text; undefined when there is none) over `bytes` against the
 * trusted keys. Returns the id of the key that signed; throws SignatureError naming `where`.
 */
export function verifySignature(bytes: Uint8Array, signature: string | undefined, keys: readonly TrustedKey[], where: string): string {
  if (signature === undefined) throw new SignatureError('BUNDLE_UNSIGNED', `${where} has no signature (${where}${SIGNATURE_SUFFIX}); compile it with --sign-key`);
  let parsed: { alg?: unknown; keyId?: unknown; signature?: unknown };
  try {
    parsed = JSON.parse(signature);
  } catch {
    throw new SignatureError('BUNDLE_SIGNATURE_INVALID', `the signature of ${where} is not JSON`);
  }
  if (!parsed || parsed.alg !== 'ed25519' || typeof parsed.keyId !== 'string' || typeof parsed.signature !== 'string') {
    throw new SignatureError('BUNDLE_SIGNATURE_INVALID', `the signature of ${where} is not an ed25519 signature file (alg, keyId, signature)`);
  }
  const trusted = keys.find((k) => k.id === parsed.keyId);
  if (!trusted) {
    throw new SignatureError('BUNDLE_SIGNATURE_INVALID', `${where} is signed by key ${String(parsed.keyId).slice(0, 16)}, which is not trusted (trusted: ${keys.map((k) => k.id).join(', ')})`);
  }
  const raw = Buffer.from(parsed.signature, 'base64');
  if (raw.length !== 64 || !verify(null, bytes, trusted.key, raw)) {
    throw new SignatureError('BUNDLE_SIGNATURE_INVALID', `the signature of ${where} by key ${trusted.id} does not match its bytes (changed after signing?)`);
  }
  return trusted.id;
}
