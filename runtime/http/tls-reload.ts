/**
 * TLS certificate and key files are reloaded when they change (cert-manager, a renewed Let's
 * Encrypt pair, a Kubernetes Secret update): new connections get the new pair, open ones keep
 * theirs. The files are polled by stat (fs.watchFile), which sees writes, renames over them and
 * Kubernetes' symlink swaps alike; a change is taken once both files were quiet for `debounceMs`
 * (a cert and its key are rarely written in the same instant). A new pair that cannot be read or
 * does not fit together is logged, naming the files, and the pair served so far stays.
 */
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type https from 'node:https';
import { createSecureContext } from 'node:tls';
import { log } from '../log.ts';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface TlsReloadOptions {
  /** How often the files are stat-ed (default 1000 ms). */
  readonly intervalMs?: number;
  /** Quiet time after the last change before reloading (default 250 ms). */
  readonly debounceMs?: number;
}

/** Watches the pair and swaps `server`'s secure context on change; returns the stop function. */
export function reloadTlsOnChange(server: https.Server, files: TlsFiles, options: TlsReloadOptions = {}): () => void {
  const intervalMs = options.intervalMs ?? 1000;
  const debounceMs = options.debounceMs ?? 250;
  let timer: NodeJS.Timeout | undefined;
  const reload = () => {
    timer = undefined;
    let cert: Buffer;
    let key: Buffer;
    try {
      cert = readFileSync(files.certFile);
    } catch (error) {
      log.error({ event: 'tls-reload', file: files.certFile, err: (error as NodeJS.ErrnoException).code ?? (error as Error).message }, 'cannot read the new TLS certificate file; the previous certificate keeps serving');
      return;
    }
    try {
      key = readFileSync(files.keyFile);
    } catch (error) {
      log.error({ event: 'tls-reload', file: files.keyFile, err: (error as NodeJS.ErrnoException).code ?? (error as Error).message }, 'cannot read the new TLS key file; the previous certificate keeps serving');
      return;
    }
    try {
      // Checks that both parse and that the key belongs to the certificate before anything changes.
      createSecureContext({ cert, key });
      server.setSecureContext({ cert, key });
    } catch (error) {
      log.error({ event: 'tls-reload', certFile: files.certFile, keyFile: files.keyFile, err: (error as Error).message }, 'the new TLS certificate and key are not a valid pair; the previous certificate keeps serving');
      return;
    }
    log.info({ event: 'tls-reload', certFile: files.certFile, keyFile: files.keyFile }, 'TLS certificate reloaded');
  };
  const changed = (current: Stats, previous: Stats) => {
    if (current.mtimeMs === previous.mtimeMs && current.ino === previous.ino && current.size === previous.size) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(reload, debounceMs);
    timer.unref();
  };
  for (const file of [files.certFile, files.keyFile]) watchFile(file, { interval: intervalMs, persistent: false }, changed);
  return () => {
    if (timer) clearTimeout(timer);
    for (const file of [files.certFile, files.keyFile]) unwatchFile(file, changed);
  };
}
