/**
 * Diagnostics: every problem the compiler finds, with the real position in the file that causes it.
 * Codes are stable (UPPER_SNAKE, listed in codes.ts); messages are for humans and may improve.
 */
import type { ParsedFile } from './source.ts';

export interface Diagnostic {
  /** Path relative to the APIs root, posix separators, e.g. "orders/plans/gold.json". */
  file: string;
  /** 1-based line. */
  line: number;
  /** 1-based column, in characters. */
  column: number;
  /** JSON pointer of the offending value inside the file ("" = the whole file). */
  pointer: string;
  /** Stable code, e.g. SCHEMA_UNKNOWN_PROPERTY, CONTEXT_PATH_OVERLAP. */
  code: string;
  message: string;
}

/**
 * A diagnostic at `pointer` inside a parsed file. `part: 'key'` points at the property name
 * (unknown properties), `'value'` at its value. A pointer that does not exist in the text (a value
 * filled by a default) falls back to its nearest existing ancestor.
 */
export function diagnosticAt(
  file: ParsedFile,
  pointer: string,
  code: string,
  message: string,
  part: 'key' | 'value' = 'value',
): Diagnostic {
  const { line, column } = file.locate(pointer, part);
  return { file: file.path, line, column, pointer, code, message };
}

/** A diagnostic about a whole file (unknown file, missing file): line 1, column 1. */
export function diagnosticForFile(path: string, code: string, message: string): Diagnostic {
  return { file: path, line: 1, column: 1, pointer: '', code, message };
}

/** Sorted by file, line, column, code: the order every output format uses. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      a.line - b.line ||
      a.column - b.column ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
}

/** `entrypoints[0].type` for `/entrypoints/0/type`; "(root)" for "". For messages only. */
export function describePointer(pointer: string): string {
  if (pointer === '') return '(root)';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (/^(0|[1-9][0-9]*)$/.test(token)) out += `[${token}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(token)) out += out ? `.${token}` : token;
    else out += `[${JSON.stringify(token)}]`;
  }
  return out;
}

/** Escape one JSON pointer token. */
export function pointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** At most this many diagnostics of one code are listed; the rest are counted (`… and 9,812 more CODE`). */
export const MAX_DIAGNOSTICS_PER_CODE = 100;

/** Diagnostics not listed, by code. */
export type OmittedCounts = Readonly<Record<string, number>>;

/**
 * Sort, keep the first MAX_DIAGNOSTICS_PER_CODE of each code and count the rest (added to
 * `omitted`, counts a stage already left out). Linear after the sort.
 */
export function capPerCode(diagnostics: readonly Diagnostic[], omitted: OmittedCounts = {}): { diagnostics: Diagnostic[]; omitted: OmittedCounts } {
  const listed: Diagnostic[] = [];
  const perCode = new Map<string, number>();
  const counts: Record<string, number> = { ...omitted };
  for (const d of sortDiagnostics(diagnostics)) {
    const n = perCode.get(d.code) ?? 0;
    if (n < MAX_DIAGNOSTICS_PER_CODE) {
      perCode.set(d.code, n + 1);
      listed.push(d);
    } else counts[d.code] = (counts[d.code] ?? 0) + 1;
  }
  return { diagnostics: listed, omitted: counts };
}

/** `… and 9,812 more CONTEXT_PATH_OVERLAP`, one per code, sorted by code. */
export function omittedLines(omitted: OmittedCounts = {}): string[] {
  return Object.keys(omitted)
    .filter((code) => omitted[code] > 0)
    .sort()
    .map((code) => `… and ${omitted[code].toLocaleString('en-US')} more ${code}`);
}

/** Append without spreading into a call (`push(...items)` overflows the stack on large arrays). */
export function pushAll<T>(into: T[], items: readonly T[]): void {
  for (const item of items) into.push(item);
}
