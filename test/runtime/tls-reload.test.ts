/**
 * `sluice serve --tls-cert --tls-key`: when the files change (a renewed certificate, a Secret
 * update), new TLS connections get the new pair without a restart; a new pair that does not fit
 * together is logged naming the files, and the old pair keeps serving.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, expect, it } from 'vitest';
import { makeBundle } from '../support/bundles.ts';
import { serve } from '../observability/serve-process.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-tls-reload-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A self-signed EC pair for 127.0.0.1 whose subject CN is `name`: its PEM texts. */
function pair(name: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

/** Replaces `file` the way tools do (temp file + rename). */
function replace(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** The subject CN of the certificate a new TLS connection to `url` is given. */
function served(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.end();
      resolve(String(cn));
    });
    socket.once('error', reject);
  });
}

it('a new certificate is served to new connections; a key that does not fit is refused and the old pair stays', async () => {
  const first = pair('first');
  const second = pair('second');
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  writeFileSync(certFile, first.cert);
  writeFileSync(keyFile, first.key);
  const runtime = await serve(makeBundle({ a: {} }), ['--tls-cert', certFile, '--tls-key', keyFile, '--log-level', 'info']);
  try {
    expect(runtime.url).toMatch(/^https:\/\//);
    expect(await served(runtime.url)).toBe('first');

    // Only the certificate changes: it does not fit the key. Logged, naming the files; old pair stays.
    replace(certFile, second.cert);
    const refused = await runtime.line((l) => l.event === 'tls-reload' && l.level === 50, 20_000, 'the refused reload');
    expect(refused).toMatchObject({ certFile, keyFile, msg: expect.stringContaining('previous certificate keeps serving') });
    expect(await served(runtime.url)).toBe('first');

    // Its key arrives: the new pair is served.
    replace(keyFile, second.key);
    await runtime.line((l) => l.event === 'tls-reload' && l.msg === 'TLS certificate reloaded', 20_000, 'the reload');
    expect(await served(runtime.url)).toBe('second');

    // A file that disappears is named too, and the served pair stays.
    rmSync(keyFile);
    const missing = await runtime.line((l) => l.event === 'tls-reload' && l.file === keyFile, 20_000, 'the unreadable key');
    expect(missing).toMatchObject({ err: 'ENOENT', level: 50 });
    expect(await served(runtime.url)).toBe('second');
  } finally {
    expect(await runtime.stop()).toBe(0);
  }
}, 60_000);
