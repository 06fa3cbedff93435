/**
 * Read stage, part 1: the source files of an APIs tree (read from a folder by folder.ts or from a
 * git tree by git.ts) and their JSON, parsed while keeping positions.
 *
 * Parsing uses the native JSON.parse (fast); the pointer -> line/column map (json-source-map) is
 * built lazily, only for files that get a diagnostic, so clean trees of thousands of APIs stay fast.
 */
import { isUtf8 } from 'node:buffer';
import { parse as parseWithPointers, type PointerLocations } from 'json-source-map';
import { findDuplicateKeys } from './duplicate-keys.ts';

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
  /**
   * The code `unreadable` is reported with: UNREADABLE_FILE (default), or SYMLINK_OUTSIDE for a
   * symbolic link whose target lies outside the APIs folder (never read, wherever it is in the tree).
   */
  code?: 'UNREADABLE_FILE' | 'SYMLINK_OUTSIDE';
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

/** One reason a file was refused, at its real position. */
export interface ParseProblem {
  code: 'JSON_SYNTAX' | 'JSON_TOO_DEEP' | 'JSON_DUPLICATE_KEY';
  position: Position;
  message: string;
}

/**
 * The outcome of parsing one file: a ParsedFile, or why it was refused (the first problem, and
 * `more` for further duplicate keys).
 */
export type ParseResult = { ok: true; file: ParsedFile } | ({ ok: false; more?: ParseProblem[] } & ParseProblem);

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
    const before = source.slice(0, at).trimEnd().at(-1);
    if (word) {
      at = word.start;
      what = `unexpected ${JSON.stringify(word.text)} (strings need double quotes; the literals are true, false and null)`;
    } else if (before === ',' && (source[at] === '}' || source[at] === ']')) {
      what = `trailing comma before ${JSON.stringify(source[at])}: JSON allows no comma after the last item`;
    } else if (/^Expected ',' or '[}\]]' after/.test(what)) {
      what += ' (a comma missing before this?)';
    }
    return { ok: false, code: 'JSON_SYNTAX', position: positionOf(lineStarts(text), at + offset), message: `invalid JSON: ${what || 'syntax error'}` };
  }
  if (tooDeep(value)) {
    const at = offsetAtDepth(source, MAX_DEPTH + 1);
    return { ok: false, code: 'JSON_TOO_DEEP', position: positionOf(lineStarts(text), at + offset), message: `nesting deeper than ${MAX_DEPTH} levels` };
  }
  const duplicates = findDuplicateKeys(source);
  if (duplicates.length) {
    const starts = lineStarts(text);
    const [first, ...more] = duplicates.map((d): ParseProblem => {
      const earlier = positionOf(starts, d.first + offset);
      const key = d.key.length > 64 ? `${d.key.slice(0, 64)}…` : d.key;
      return {
        code: 'JSON_DUPLICATE_KEY',
        position: positionOf(starts, d.at + offset),
        message: `duplicate key ${JSON.stringify(key)} in one object (first at line ${earlier.line}, column ${earlier.column}): JSON keeps only the last value; remove one`,
      };
    });
    return { ok: false, ...first, more };
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
