/**
 * Output formats for diagnostics:
 * - human:  `path/to/file.json:LINE:COL CODE message`, one per line
 * - json:   a JSON array of diagnostics (file joined with root)
 * - github: workflow commands `::error file=…,line=…,col=…::CODE message`
 */
import { sortDiagnostics, type Diagnostic } from './diagnostic.ts';

export type DiagnosticFormat = 'human' | 'json' | 'github';

export interface FormatOptions {
  /** Prefix joined to every file path (the APIs folder as given on the command line). */
  root?: string;
}

/** The diagnostics as text, sorted, without a trailing newline ('' when there are none, '[]' for json). */
export function formatDiagnostics(diagnostics: readonly Diagnostic[], format: DiagnosticFormat, options: FormatOptions = {}): string {
  const sorted = sortDiagnostics(diagnostics).map((d) => ({ ...d, file: joinRoot(options.root, d.file) }));
  switch (format) {
    case 'json':
      return JSON.stringify(sorted, null, 2);
    case 'github':
      return sorted
        .map((d) => `::error file=${escapeProperty(d.file)},line=${d.line},col=${d.column}::${escapeData(`${d.code} ${d.message}`)}`)
        .join('\n');
    default:
      return sorted.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`).join('\n');
  }
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
