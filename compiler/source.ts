/**
 * Read stage, part 1: find the files of an APIs folder and parse JSON while keeping positions.
 *
 * Parsing uses the native JSON.parse (fast); the pointer -> line/column map (json-source-map) is
 * built lazily, only for files that get a diagnostic, so clean trees of thousands of APIs stay fast.
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseWithPointers, type PointerLocations } from 'json-source-map';

/** One file of an APIs tree, as read from a folder or a git tree. */
export interface SourceFile {
  /** Relative to the APIs root, posix, e.g. "orders/plans/gold.json". */
  path: string;
  /** The file's text ('' for files the compiler does not read, e.g. `plans/gold.yaml`). */
  text: string;
  /**
   * Why the entry could not be read, when it could not ("is a symbolic link to a missing file",
   * "is a folder, not a file", "is not UTF-8 text", ...): reported as UNREADABLE_FILE, never thrown.
   */
  unreadable?: string;
}

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based, in characters. */
  column: number;
}

/** A JSON file that parsed. `value` is the parsed document (validation fills defaults into it). */
export interface ParsedFile {
  readonly path: string;
  readonly value: unknown;
  /** Position of the value (or, with part 'key', the property name) at a JSON pointer. */
  locate(pointer: string, part?: 'key' | 'value'): Position;
}

/** Files larger than this are refused (FILE_TOO_LARGE) and never parsed. */
export const MAX_FILE_BYTES = 1024 * 1024;

/** Files read between two yields to the event loop. */
const READ_BATCH = 256;

/**
 * Every file under `dir`, sorted by path. Hidden entries (".git", ".DS_Store") are skipped;
 * symbolic links to directories are not followed. Only `.json` files are read (at most
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
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), { code: 'ENOTDIR' });
    collect(dir, '', entries, true);
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
    if (entry.unreadable === undefined && entry.path.endsWith('.json')) Object.assign(entry, readText(join(dir, entry.path)));
  }
  return entries;
}

/** List the entries under root/relative; files get text '' (read later), problems get `unreadable`. */
function collect(root: string, relative: string, out: SourceFile[], isRoot = false): void {
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
      else collect(root, path, out);
    } else if (entry.isFile()) out.push({ path, text: '' });
    else if (entry.isSymbolicLink()) out.push(linkEntry(join(root, path), path));
    else out.push({ path, text: '', unreadable: 'is not a regular file (a pipe, socket or device)' });
  }
}

/** A symbolic link: listed as a file when it leads to one; links to folders are never followed. */
function linkEntry(full: string, path: string): SourceFile {
  let target;
  try {
    target = statSync(full);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'is a symbolic link to nothing (its target is missing)' : code === 'ELOOP' ? 'is a symbolic link loop' : `is a symbolic link that cannot be followed (${describeError(error)})`;
    return { path, text: '', unreadable: why };
  }
  if (target.isFile()) return { path, text: '' };
  if (target.isDirectory()) return { path, text: '', unreadable: 'is a symbolic link to a folder; links to folders are not followed' };
  return { path, text: '', unreadable: 'is a symbolic link to something that is not a regular file' };
}

/** The file's text, at most MAX_FILE_BYTES + 1 bytes of it (enough to tell that it is too large). */
function readText(path: string): { text: string; unreadable?: string } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
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

/**
 * A file's bytes as text. Bytes that are not UTF-8 (an image, a UTF-16 file) make it unreadable;
 * a file longer than `maxBytes` may end in a cut character, so only its first `maxBytes` are checked.
 */
export function decodeText(bytes: Buffer, maxBytes = Infinity): { text: string; unreadable?: string } {
  if (!isUtf8(bytes.length > maxBytes ? bytes.subarray(0, Math.max(0, maxBytes - 3)) : bytes)) {
    const utf16 = bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff));
    return { text: '', unreadable: `is not UTF-8 text${utf16 ? ' (it is UTF-16: save it as UTF-8)' : ' (a binary file?)'}` };
  }
  return { text: bytes.toString('utf8') };
}

function describeError(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
}

/** The outcome of parsing one file: a ParsedFile, or a syntax error at its real position. */
export type ParseResult =
  | { ok: true; file: ParsedFile }
  | { ok: false; code: 'JSON_SYNTAX' | 'JSON_TOO_DEEP'; position: Position; message: string };

/** Deeper nesting is refused (JSON_TOO_DEEP): later stages recurse, and no definition needs it. */
export const MAX_DEPTH = 64;

/** Parse JSON text. A leading byte-order mark is ignored. */
export function parseJson(path: string, text: string): ParseResult {
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const offset = source.length === text.length ? 0 : 1;
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    const reason = (error as Error).message;
    let at = Math.min(syntaxErrorOffset(source, reason), trimmedEnd(source));
    let what = reason
      .replace(/\s*after JSON at position \d+.*$/s, ' after the end of the JSON document')
      .replace(/\s*in JSON at position \d+.*$/s, '')
      .replace(/\s*\(line \d+ column \d+\)$/, '')
      .replace(/^Unexpected token '([\s\S])',[\s\S]*$/, (_, c: string) => `Unexpected character ${JSON.stringify(c)}`);
    const word = wordAround(source, at);
    if (word) {
      at = word.start;
      what = `unexpected ${JSON.stringify(word.text)} (strings need double quotes; the literals are true, false and null)`;
    }
    return { ok: false, code: 'JSON_SYNTAX', position: positionOf(lineStarts(text), at + offset), message: `invalid JSON: ${what || 'syntax error'}` };
  }
  if (tooDeep(value)) {
    const at = offsetAtDepth(source, MAX_DEPTH + 1);
    return { ok: false, code: 'JSON_TOO_DEEP', position: positionOf(lineStarts(text), at + offset), message: `nesting deeper than ${MAX_DEPTH} levels` };
  }
  return { ok: true, file: new LazyParsedFile(path, text, value) };
}

/** Character offset of a JSON syntax error, from V8's message or by re-parsing with json-source-map. */
function syntaxErrorOffset(source: string, reason: string): number {
  const v8 = /at position (\d+)/.exec(reason);
  if (v8) return Number(v8[1]);
  if (/end of (JSON|data) input/i.test(reason)) return trimmedEnd(source);
  try {
    parseWithPointers(source);
  } catch (error) {
    const own = /at position (\d+)/.exec((error as Error).message);
    if (own) return Number(own[1]);
  }
  return trimmedEnd(source);
}

/** Whether objects and arrays nest deeper than MAX_DEPTH (iterative: safe on any depth). */
function tooDeep(root: unknown): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [value, depth] = stack.pop()!;
    if (!value || typeof value !== 'object') continue;
    if (depth >= MAX_DEPTH) return true;
    for (const child of Array.isArray(value) ? value : Object.values(value)) {
      if (child && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Offset of the first `{` or `[` that opens nesting level `depth` (strings skipped). */
function offsetAtDepth(source: string, depth: number): number {
  let level = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '"') {
      for (i++; i < source.length && source[i] !== '"'; i++) if (source[i] === '\\') i++;
    } else if (c === '{' || c === '[') {
      if (++level === depth) return i;
    } else if (c === '}' || c === ']') level--;
  }
  return 0;
}

/** A bare word (misspelt literal, unquoted string) at or just before `at`, other than a valid literal. */
function wordAround(source: string, at: number): { start: number; text: string } | undefined {
  const isWord = (c: string | undefined) => c !== undefined && /[A-Za-z_]/.test(c);
  let start = at;
  while (start > 0 && at - start < 64 && isWord(source[start - 1])) start--;
  let end = at;
  while (end < source.length && end - start < 64 && isWord(source[end])) end++;
  if (end === start) return undefined;
  if (start > 0 && /["\w]/.test(source[start - 1])) return undefined; // inside a string or a number
  const text = source.slice(start, end);
  return text === 'true' || text === 'false' || text === 'null' ? undefined : { start, text };
}

function trimmedEnd(source: string): number {
  return source.trimEnd().length;
}

class LazyParsedFile implements ParsedFile {
  #pointers: Record<string, PointerLocations> | undefined;
  #lines: number[] | undefined;

  constructor(
    readonly path: string,
    private readonly text: string,
    readonly value: unknown,
  ) {}

  locate(pointer: string, part: 'key' | 'value' = 'value'): Position {
    const source = this.text.charCodeAt(0) === 0xfeff ? this.text.slice(1) : this.text;
    const offset = source.length === this.text.length ? 0 : 1;
    this.#pointers ??= pointersOf(source);
    this.#lines ??= lineStarts(this.text);
    let current = pointer;
    for (;;) {
      const found = this.#pointers[current];
      if (found) {
        const location = part === 'key' && found.key ? found.key : found.value;
        return positionOf(this.#lines, location.pos + offset);
      }
      if (current === '') return { line: 1, column: 1 };
      current = current.slice(0, current.lastIndexOf('/'));
      part = 'value';
    }
  }
}

function pointersOf(source: string): Record<string, PointerLocations> {
  try {
    return parseWithPointers(source).pointers;
  } catch {
    return {}; // JSON.parse accepted what json-source-map does not: positions fall back to 1:1
  }
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) starts.push(i + 1);
    else if (c === 13 && text.charCodeAt(i + 1) !== 10) starts.push(i + 1);
  }
  return starts;
}

function positionOf(starts: number[], offset: number): Position {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (starts[mid] <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - starts[low] + 1 };
}
