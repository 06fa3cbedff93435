/**
 * How the store touches the disk: atomic writes, bounded reads, JSON-lines logs and the writer lock.
 * (compiler/store.ts says what the store holds; this module says how it is read and written safely.)
 *
 * Contracts:
 * - writeAtomic writes a temp file beside the target, fsyncs it and renames it over the target, so
 *   a reader (a runtime polling `current`, a static file server) never sees half a file. The temp
 *   file is removed when anything fails.
 * - readBounded never reads more than `maxBytes` (+1 to tell that a file is too large), whatever
 *   the file does meanwhile.
 * - withLock runs `fn` holding DIR/.lock, created with O_EXCL; exactly one release per acquire.
 *   A lock left by a dead process on this host, or older than `staleMs`, is broken safely.
 * - removeStaleTemps removes what a killed writer left: only names of our temp pattern, and only
 *   when their writer's pid is dead on this host or they were untouched for a minute.
 * - Every failure is a StoreError with a stable code.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export type StoreErrorCode =
  | 'store-missing'
  | 'store-bundle-missing'
  | 'store-bundle-corrupt'
  | 'store-log-corrupt'
  | 'store-current-corrupt'
  | 'store-unknown-release'
  | 'store-locked'
  | 'store-io';

export class StoreError extends Error {
  constructor(readonly code: StoreErrorCode, message: string) {
    super(message);
    this.name = 'StoreError';
  }
}

/** writeAtomic's temp files: `<target>.tmp-<pid>-<8 hex>` (the pid is group 1). */
export const ATOMIC_TEMP = /^.+\.tmp-(\d+)-[0-9a-f]{8}$/;
/** A temp file untouched this long is a leftover whoever wrote it. */
const STALE_TEMP_MS = 60_000;

/** Write by temp file + fsync + rename. Throws StoreError('store-io'). */
export async function writeAtomic(file: string, text: string | Uint8Array): Promise<void> {
  const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    const handle = await fs.open(temp, 'w');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, file);
  } catch (error) {
    await fs.rm(temp, { force: true }).catch(() => {});
    throw new StoreError('store-io', `cannot write ${file}: ${(error as Error).message}`);
  }
}

/**
 * A file's text, at most `maxBytes` of it; undefined when it does not exist. A larger file is a
 * StoreError with `tooLarge` (the code of the file's kind: a bundle is corrupt, a log is corrupt...).
 */
export async function readBounded(file: string, maxBytes: number, tooLarge: StoreErrorCode): Promise<string | undefined> {
  return (await readBoundedBytes(file, maxBytes, tooLarge))?.toString('utf8');
}

/** readBounded's bytes (what a signature covers), undefined when the file does not exist. */
export async function readBoundedBytes(file: string, maxBytes: number, tooLarge: StoreErrorCode): Promise<Buffer | undefined> {
  let handle: FileHandle;
  try {
    handle = await fs.open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreError('store-io', `cannot read ${file}: ${(error as Error).message}`);
  }
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw new StoreError(tooLarge, `${file} is ${size} bytes, more than the ${maxBytes} allowed`);
    const buffer = Buffer.alloc(Math.min(size, maxBytes) + 1);
    let filled = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
      if (filled > maxBytes) throw new StoreError(tooLarge, `${file} grew past the ${maxBytes} bytes allowed while it was read`);
      if (filled === buffer.length) break;
    }
    return buffer.subarray(0, filled);
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError('store-io', `cannot read ${file}: ${(error as Error).message}`);
  } finally {
    await handle.close();
  }
}

/** A JSON-lines log (blank lines skipped); [] when the file does not exist. */
export async function readJsonLines<T>(file: string, maxBytes: number): Promise<T[]> {
  const text = await readBounded(file, maxBytes, 'store-log-corrupt');
  if (text === undefined) return [];
  const out: T[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      throw new StoreError('store-log-corrupt', `${file}:${i + 1} is not JSON`);
    }
  });
  return out;
}

/** Rewrite a JSON-lines log atomically with `entries`, one JSON object per line (writeAtomic). */
export async function writeJsonLines(file: string, entries: readonly unknown[]): Promise<void> {
  await writeAtomic(file, entries.map((e) => `${JSON.stringify(e)}\n`).join(''));
}

/** Run `fn` holding DIR/.lock (created with O_EXCL). Exactly one release of the lock per acquire. */
export async function withLock<T>(dir: string, options: { timeoutMs: number; staleMs: number }, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(dir, '.lock');
  const deadline = Date.now() + options.timeoutMs;
  const token = `${JSON.stringify({ pid: process.pid, host: os.hostname(), time: Date.now(), nonce: randomBytes(6).toString('hex') })}\n`;
  for (;;) {
    try {
      await fs.writeFile(lock, token, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreError('store-io', `cannot create ${lock}: ${(error as Error).message}`);
    }
    await breakStaleLock(lock, options.staleMs);
    if (Date.now() > deadline) throw new StoreError('store-locked', `the store ${dir} is locked by another writer (${lock}); gave up after ${options.timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20 + Math.random() * 40));
  }
  try {
    return await fn();
  } finally {
    // Remove the lock only if it is still ours (a stale-lock breaker may have taken it).
    const now = await fs.readFile(lock, 'utf8').catch(() => undefined);
    if (now === token) await fs.rm(lock, { force: true });
  }
}

/**
 * A lock is stale when its holder is a dead process on this host, or it is older than staleMs.
 * Breaking is a rename to a unique name (only one breaker wins); if what we moved is not the lock
 * we judged stale (someone took a fresh one meanwhile), it is linked back.
 */
async function breakStaleLock(lock: string, staleMs: number): Promise<void> {
  let text: string;
  let mtimeMs: number;
  try {
    text = await fs.readFile(lock, 'utf8');
    mtimeMs = (await fs.stat(lock)).mtimeMs;
  } catch {
    return; // gone already
  }
  let holder: { pid?: number; host?: string; time?: number } = {};
  try {
    holder = JSON.parse(text);
  } catch {
    /* half-written lock: judged by age below */
  }
  const age = Date.now() - (typeof holder.time === 'number' ? holder.time : mtimeMs);
  const deadHere = holder.host === os.hostname() && typeof holder.pid === 'number' && !processAlive(holder.pid);
  const unreadable = holder.pid === undefined && Date.now() - mtimeMs > 5_000;
  if (!deadHere && !unreadable && age < staleMs) return;
  const tomb = `${lock}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await fs.rename(lock, tomb);
  } catch {
    return; // another breaker won
  }
  const moved = await fs.readFile(tomb, 'utf8').catch(() => '');
  if (moved !== text) await fs.link(tomb, lock).catch(() => {}); // a fresh lock: give it back
  await fs.rm(tomb, { force: true });
}

/**
 * Removes the temp files a killed writer left directly in `dir`: names matching `pattern` (its
 * group 1 is the writer's pid) whose pid is dead on this host or that were untouched for a
 * minute; a temp another writer is filling right now is left alone. Returns the names removed;
 * never throws (a folder that does not exist has nothing to clean).
 */
export async function removeStaleTemps(dir: string, pattern: RegExp): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const removed: string[] = [];
  for (const name of names) {
    const match = pattern.exec(name);
    if (!match) continue;
    const file = path.join(dir, name);
    const stats = await fs.lstat(file).catch(() => undefined);
    if (!stats?.isFile()) continue;
    const pid = Number(match[1]);
    const stale = Date.now() - stats.mtimeMs > STALE_TEMP_MS || (pid !== process.pid && !processAlive(pid));
    if (!stale) continue;
    if (await fs.rm(file).then(() => true, () => false)) removed.push(name);
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
