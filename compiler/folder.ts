/**
 * Read stage: the files of an APIs folder on disk, as SourceFiles. Bad entries are listed with the
 * reason they cannot be read (`unreadable`), so the compiler reports them; nothing here throws for
 * bad input except a root that is not a readable folder.
 */
import { closeSync, constants, fstatSync, openSync, readdirSync, readSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { decodeText, MAX_FILE_BYTES, type SourceFile } from './source.ts';

/** Files read between two yields to the event loop. */
const READ_BATCH = 256;

/** Not following a link when opening (a file swapped for a link after listing is not read). */
const NO_FOLLOW = constants.O_NOFOLLOW ?? 0;

/**
 * Every file under `dir`, sorted by path. Hidden entries (".git", ".DS_Store") are skipped.
 * Symbolic links: a link whose target (after resolving every link on the way) lies outside `dir`
 * is listed as unreadable with code SYMLINK_OUTSIDE and never read, whatever it points to; a link
 * to a file inside `dir` is read from its resolved path (it cannot loop: a loop does not resolve);
 * links to directories are never followed. Only `.json` files are read (at most
 * MAX_FILE_BYTES + 1 bytes each); other files are listed with empty text so that the compiler can
 * report them. Whatever cannot be read (a link to nothing, a link loop, a folder named `x.json`, a
 * pipe, a file that is not UTF-8 text, a sub-folder without permission) is listed with
 * `unreadable` set: bad input is reported, never thrown. Rejects only when `dir` itself is not a
 * readable directory.
 *
 * Small files are read with synchronous calls (several times faster than the thread pool for
 * thousands of small files), in batches that yield to the event loop in between.
 */
export async function readFolder(dir: string): Promise<SourceFile[]> {
  const entries: SourceFile[] = [];
  const resolved = new Map<SourceFile, string>();
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), { code: 'ENOTDIR' });
    collect({ root: dir, realRoot: realpathSync(dir), resolved }, '', entries, true);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw error;
    const message = code === 'ENOENT' ? `there is no folder ${dir}` : `cannot read ${dir} (${describeError(error)})`;
    throw Object.assign(new Error(message), { code });
  }
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 0; i < entries.length; i++) {
    if (i > 0 && i % READ_BATCH === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const entry = entries[i];
    if (entry.unreadable === undefined && entry.path.endsWith('.json')) Object.assign(entry, readText(resolved.get(entry) ?? join(dir, entry.path)));
  }
  return entries;
}

interface Walk {
  root: string;
  /** `root` with every link resolved: link targets must lie under it. */
  realRoot: string;
  /** Links to files inside the folder: the resolved path to read. */
  resolved: Map<SourceFile, string>;
}

/** List the entries under root/relative; files get text '' (read later), problems get `unreadable`. */
function collect(walk: Walk, relative: string, out: SourceFile[], isRoot = false): void {
  const { root } = walk;
  let entries;
  try {
    entries = readdirSync(relative ? join(root, relative) : root, { withFileTypes: true });
  } catch (error) {
    if (isRoot) throw error;
    out.push({ path: relative, text: '', unreadable: `is a folder that cannot be read (${describeError(error)})` });
    return;
  }
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (entry.name.endsWith('.json')) out.push({ path, text: '', unreadable: 'is a folder, not a file' });
      else collect(walk, path, out);
    } else if (entry.isFile()) out.push({ path, text: '' });
    else if (entry.isSymbolicLink()) out.push(linkEntry(walk, path));
    else out.push({ path, text: '', unreadable: 'is not a regular file (a pipe, socket or device)' });
  }
}

/**
 * A symbolic link: listed as a file when it leads to a file inside the folder; a target outside is
 * SYMLINK_OUTSIDE (the message names the link, never the target); links to folders are not followed.
 */
function linkEntry(walk: Walk, path: string): SourceFile {
  let real;
  let target;
  try {
    real = realpathSync(join(walk.root, path));
    if (real !== walk.realRoot && !real.startsWith(walk.realRoot.endsWith(sep) ? walk.realRoot : walk.realRoot + sep)) {
      return { path, text: '', code: 'SYMLINK_OUTSIDE', unreadable: 'is a symbolic link to a target outside the APIs folder: it is not followed (copy the file into the folder, or link inside it)' };
    }
    target = statSync(real);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'is a symbolic link to nothing (its target is missing)' : code === 'ELOOP' ? 'is a symbolic link loop' : `is a symbolic link that cannot be followed (${describeError(error)})`;
    return { path, text: '', unreadable: why };
  }
  if (target.isFile()) {
    const file: SourceFile = { path, text: '' };
    walk.resolved.set(file, real);
    return file;
  }
  if (target.isDirectory()) return { path, text: '', unreadable: 'is a symbolic link to a folder; links to folders are not followed' };
  return { path, text: '', unreadable: 'is a symbolic link to something that is not a regular file' };
}

/** The file's text, at most MAX_FILE_BYTES + 1 bytes of it (enough to tell that it is too large). */
function readText(path: string): { text: string; unreadable?: string } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | NO_FOLLOW);
  } catch (error) {
    return { text: '', unreadable: `cannot be read (${describeError(error)})` };
  }
  try {
    const size = Math.min(fstatSync(fd).size, MAX_FILE_BYTES + 1);
    const buffer = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const read = readSync(fd, buffer, filled, size - filled, filled);
      if (read === 0) break;
      filled += read;
    }
    return decodeText(buffer.subarray(0, filled), MAX_FILE_BYTES);
  } catch (error) {
    return { text: '', unreadable: `cannot be read (${describeError(error)})` };
  } finally {
    closeSync(fd);
  }
}

function describeError(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}
