/**
 * Output formats for diagnostics:
 * - human:  `path/to/file.json:LINE:COL CODE message`, one per line
 * - json:   a JSON array of diagnostics (file joined with root)
 * - github: workflow commands `::error file=…,line=…,col=…::CODE message`
 * At most MAX_DIAGNOSTICS_PER_CODE of each code are listed, then one line per code that had more:
 * `… and 9,812 more CODE` (json: an item `{"code", "omitted", "message"}` at the end of the array;
 * github: an `::error::` annotation without a file).
 */
import { capPerCode, omittedLines, type Diagnostic, type OmittedCounts } from './diagnostic.ts';

export type DiagnosticFormat = 'human' | 'json' | 'github';

export interface FormatOptions {
  /** Prefix joined to every file path (the APIs folder as given on the command line). */
  root?: string;
  /** Diagnostics already left out (CompileResult.omitted), added to those capped here. */
  omitted?: OmittedCounts;
}

/** The diagnostics as text, sorted, without a trailing newline ('' when there are none, '[]' for json). */
export function formatDiagnostics(diagnostics: readonly Diagnostic[], format: DiagnosticFormat, options: FormatOptions = {}): string {
  const capped = capPerCode(diagnostics, options.omitted);
  const sorted = capped.diagnostics.map((d) => ({ ...d, file: joinRoot(options.root, d.file) }));
  const more = omittedLines(capped.omitted);
  switch (format) {
    case 'json':
      return JSON.stringify([...sorted, ...omittedItems(capped.omitted)], null, 2);
    case 'github':
      return [
        ...sorted.map((d) => `::error file=${escapeProperty(d.file)},line=${d.line},col=${d.column}::${escapeData(`${d.code} ${d.message}`)}`),
        ...more.map((line) => `::error::${escapeData(line)}`),
      ].join('\n');
    default:
      return [...sorted.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`), ...more].join('\n');
  }
}

/** The JSON form of the `… and N more CODE` lines. */
export function omittedItems(omitted: OmittedCounts): { code: string; omitted: number; message: string }[] {
  return Object.keys(omitted)
    .filter((code) => omitted[code] > 0)
    .sort()
    .map((code) => ({ code, omitted: omitted[code], message: omittedLines({ [code]: omitted[code] })[0] }));
}

/** "apis" + "orders/api.json" -> "apis/orders/api.json"; "./apis/" and "." handled. */
export function joinRoot(root: string | undefined, path: string): string {
  if (!root || root === '.' || root === './') return path;
  return `${root.replace(/[/\\]+$/, '')}/${path}`;
}

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}
