/**
 * Secrets the runtime needs at start come from a file (`--…-file FILE`, e.g. a mounted
 * Kubernetes Secret) or an environment variable, never only from argv (which every user of the
 * machine sees in `ps`):
 *
 *   store token      --store-token-file FILE | SLUICE_STORE_TOKEN      (sent as Authorization: Bearer)
 *   Redis password   --redis-password-file FILE | SLUICE_REDIS_PASSWORD (or the whole URL in SLUICE_REDIS)
 *   TLS key          --tls-key FILE (a file already) | SLUICE_TLS_KEY=FILE
 *
 * The file flag wins over the variable. A file's trailing newline is not part of the secret.
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { UsageError } from './args.ts';

/** Largest secret file read (a token or password, not a document). */
const MAX_SECRET_BYTES = 64 * 1024;

/** The environment variables that carry secrets themselves (no flag of that name exists). */
export const SECRET_ENV = ['SLUICE_STORE_TOKEN', 'SLUICE_REDIS_PASSWORD'] as const;

function readSecretFile(file: string, flag: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    throw new UsageError(`${flag} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    const buffer = Buffer.alloc(MAX_SECRET_BYTES + 1);
    let length = 0;
    for (let n; (n = readSync(fd, buffer, length, buffer.length - length, null)) > 0 && length <= MAX_SECRET_BYTES;) length += n;
    if (length > MAX_SECRET_BYTES) throw new UsageError(`${flag} ${file}: larger than ${MAX_SECRET_BYTES} bytes; it should hold only the secret`);
    return buffer.subarray(0, length).toString('utf8').replace(/\r?\n$/, '');
  } finally {
    closeSync(fd);
  }
}

/** The secret from `fileFlag`'s file, else from `envVar`; undefined when neither is set. */
export function secretFrom(flags: Map<string, string>, fileFlag: string, envVar: string, env: NodeJS.ProcessEnv): string | undefined {
  const file = flags.get(fileFlag);
  const secret = file !== undefined ? readSecretFile(file, fileFlag) : env[envVar] || undefined;
  if (secret !== undefined && (secret.trim() === '' || /[\r\n]/.test(secret))) {
    throw new UsageError(`${file !== undefined ? `${fileFlag} ${file}` : envVar}: the secret is empty or spans several lines`);
  }
  return secret;
}

/** `url` with `password` as its password (percent-encoded), for --redis-password-file / SLUICE_REDIS_PASSWORD. */
export function withPassword(url: string, password: string): string {
  const parsed = new URL(url);
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}
