import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSecretResolver, describeSecretRef, SecretError } from '../../runtime/secrets.ts';

describe('secrets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-secrets-'));

  it('resolves env references and caches them until clear()', () => {
    const env: NodeJS.ProcessEnv = { SIGNING_KEY: 'first' };
    const secrets = createSecretResolver({ env });
    expect(secrets.resolve({ env: 'SIGNING_KEY' })).toBe('first');
    env.SIGNING_KEY = 'second';
    expect(secrets.resolve({ env: 'SIGNING_KEY' })).toBe('first');
    secrets.clear();
    expect(secrets.resolve({ env: 'SIGNING_KEY' })).toBe('second');
  });

  it('resolves file references without the trailing newline, and reads a rotated file again', () => {
    const path = join(dir, 'key');
    writeFileSync(path, 's3cr3t-value\n');
    const secrets = createSecretResolver();
    expect(secrets.resolve({ file: path })).toBe('s3cr3t-value');
    expect(secrets.resolve({ file: path })).toBe('s3cr3t-value');
    writeFileSync(path, 'rotated-value-longer\n');
    expect(secrets.resolve({ file: path })).toBe('rotated-value-longer');
  });

  it('names the reference, never a value, when missing', () => {
    const secrets = createSecretResolver({ env: { OTHER: 'do-not-show' } });
    expect(() => secrets.resolve({ env: 'MISSING_KEY' })).toThrow(SecretError);
    expect(() => secrets.resolve({ env: 'MISSING_KEY' })).toThrow(/env:MISSING_KEY.*not set/);
    expect(() => secrets.resolve({ file: join(dir, 'nope') })).toThrow(/file:.*nope.*does not exist/);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => secrets.resolve({ file: empty })).toThrow(/is empty/);
    const error = (() => {
      try {
        secrets.resolve({ env: 'OTHER_MISSING' });
      } catch (e) {
        return e as SecretError;
      }
    })();
    expect(error?.code).toBe('SECRET_UNRESOLVED');
    expect(error?.message).not.toContain('do-not-show');
  });

  it('refuses huge files', () => {
    const path = join(dir, 'huge');
    writeFileSync(path, 'x'.repeat(70 * 1024));
    expect(() => createSecretResolver().resolve({ file: path })).toThrow(/larger than/);
  });

  it('describes references', () => {
    expect(describeSecretRef({ env: 'A' })).toBe('env:A');
    expect(describeSecretRef({ file: '/run/secrets/b' })).toBe('file:/run/secrets/b');
  });

  it('refuses a file that is not a regular file (a FIFO or device has no size, so the size bound cannot hold)', () => {
    const path = join(dir, 'fifo');
    execFileSync('mkfifo', [path]);
    // A writer pushing 200 KiB (over the 64 KiB bound) into the FIFO: read whole, it would be accepted.
    const writer = spawn('sh', ['-c', `head -c 204800 /dev/zero | tr '\\0' a > '${path}'`], { stdio: 'ignore', detached: true });
    try {
      expect(() => createSecretResolver().resolve({ file: path })).toThrow(/not a regular file/);
    } finally {
      process.kill(-writer.pid!, 'SIGKILL'); // the shell and its pipeline, still waiting for a reader
    }
  });
});
