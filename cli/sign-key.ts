/**
 * `--sign-key FILE | env:NAME` of `sluice compile`: the Ed25519 private key (PKCS#8 PEM) that signs
 * the bundle written. Read once, before compiling; its text is never printed, logged or bundled
 * (a problem names the file or the variable, not the content).
 */
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { parsePrivateKey, signatureText } from '../core/signature.ts';
import { UsageError } from './args.ts';

const ENV = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

/** The key `spec` names. Throws UsageError (exit 2) naming the file or variable. */
export function loadSigningKey(spec: string, env: NodeJS.ProcessEnv = process.env): KeyObject {
  const fromEnv = ENV.exec(spec);
  let pem: string;
  let where: string;
  if (fromEnv) {
    where = `--sign-key env:${fromEnv[1]}`;
    const value = env[fromEnv[1]];
    if (!value) throw new UsageError(`${where}: the environment variable ${fromEnv[1]} is not set or empty`);
    pem = value;
  } else {
    if (spec.startsWith('env:')) throw new UsageError(`--sign-key ${spec}: env:NAME needs a variable name (letters, digits, _)`);
    where = `--sign-key ${spec}`;
    try {
      pem = readFileSync(spec, 'utf8');
    } catch (error) {
      throw new UsageError(`${where}: cannot read the key file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }
  try {
    return parsePrivateKey(pem, where);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** The signer of compile's writes: `.sig` text for a bundle file's bytes. */
export function signerFor(key: KeyObject | undefined): ((bytes: Uint8Array) => string) | undefined {
  return key ? (bytes) => signatureText(bytes, key) : undefined;
}
