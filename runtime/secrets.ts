/**
 * Resolves secret references ({"env": NAME} / {"file": PATH}) — secrets never appear in bundles in
 * plain text. Called when a bundle is built (EndpointContext.resolveSecret, PlanContext.resolveSecret):
 * a missing secret throws a SecretError naming the reference (the API fails to build, the last
 * good keeps serving). Values are cached per reference: env values until `secrets.clear()`, file
 * values while the file's size and mtime are unchanged (a rotated mounted secret is read again at
 * the next build). Values are never logged.
 */
import { readFileSync, statSync } from 'node:fs';
import type { SecretRef } from '../schemas/types.ts';

/** Largest secret file accepted: a secret is a key or a password, not a document. */
const MAX_SECRET_FILE_BYTES = 64 * 1024;

export class SecretError extends Error {
  readonly code = 'SECRET_UNRESOLVED';
  constructor(readonly reference: string, reason: string) {
    super(`secret ${reference} cannot be resolved: ${reason}`);
    this.name = 'SecretError';
  }
}

/** How a reference is named in messages and logs: `env:NAME` or `file:PATH` (never the value). */
export function describeSecretRef(ref: SecretRef): string {
  if (ref && typeof ref === 'object' && 'env' in ref) return `env:${ref.env}`;
  if (ref && typeof ref === 'object' && 'file' in ref) return `file:${ref.file}`;
  return 'an invalid secret reference';
}

export interface SecretResolver {
  /** The secret's value. Throws SecretError (naming the reference) when unset, unreadable or empty. */
  resolve(ref: SecretRef): string;
  /** Forget cached values, so the next resolve reads the environment or file again. */
  clear(): void;
}

export interface SecretResolverOptions {
  /** Environment to read `env` references from (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
}

export function createSecretResolver(options: SecretResolverOptions = {}): SecretResolver {
  const env = options.env ?? process.env;
  const cache = new Map<string, { value: string; version: string }>();
  return {
    resolve(ref) {
      const name = describeSecretRef(ref);
      const isFile = ref && typeof ref === 'object' && 'file' in ref;
      const version = isFile ? fileVersion(ref.file) : '';
      const cached = cache.get(name);
      if (cached !== undefined && cached.version === version) return cached.value;
      let value: string;
      if (ref && typeof ref === 'object' && 'env' in ref) value = readEnv(env, ref.env, name);
      else if (isFile) value = readSecretFile(ref.file, name);
      else throw new SecretError(name, 'a reference needs "env" or "file"');
      cache.set(name, { value, version });
      return value;
    },
    clear() {
      cache.clear();
    },
  };
}

function readEnv(env: NodeJS.ProcessEnv, variable: string, name: string): string {
  const value = env[variable];
  if (value === undefined) throw new SecretError(name, `the environment variable ${variable} is not set`);
  if (value === '') throw new SecretError(name, `the environment variable ${variable} is empty`);
  return value;
}

/** Changes when the file is replaced or rewritten; '' when it cannot be read (readSecretFile reports why). */
function fileVersion(path: string): string {
  try {
    const stat = statSync(path);
    return `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
  } catch {
    return '';
  }
}

function readSecretFile(path: string, name: string): string {
  let text: string;
  try {
    const stat = statSync(path);
    // A FIFO or device reports no size and may never end (or, for a FIFO without writer, block
    // the process on open): only regular files (mounted secrets are symlinks to them) are read.
    if (!stat.isFile()) throw new SecretError(name, 'not a regular file');
    if (stat.size > MAX_SECRET_FILE_BYTES) {
      throw new SecretError(name, `the file is larger than ${MAX_SECRET_FILE_BYTES} bytes`);
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof SecretError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new SecretError(name, code === 'ENOENT' ? 'the file does not exist' : `the file cannot be read (${code ?? 'error'})`);
  }
  // Files written by `echo` or editors end with a newline that is not part of the secret.
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new SecretError(name, 'the file is empty');
  return value;
}

/** The process-wide resolver the runtime uses. */
export const secrets: SecretResolver = createSecretResolver();

/** Resolves with the process-wide resolver (cached). Throws SecretError naming the reference. */
export function resolveSecret(ref: SecretRef): string {
  return secrets.resolve(ref);
}
