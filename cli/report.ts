/**
 * What `validate` and `compile` print for a compile result: diagnostics in the chosen format,
 * then a summary line (human, github) — or a single JSON document (json); compileOrReport for the
 * commands that go on with the bundle (compile, asyncapi, catalog).
 */
import type { Bundle } from '../schemas/types.ts';
import { capPerCode, type Diagnostic, type OmittedCounts } from '../compiler/diagnostic.ts';
import { formatDiagnostics, joinRoot, omittedItems, type DiagnosticFormat } from '../compiler/format.ts';
import { compileFolder, type CompileOptions } from '../compiler/compile.ts';
import { ENVIRONMENTS_DIR, ENVIRONMENT_NAME } from '../compiler/environment.ts';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const FORMATS: readonly DiagnosticFormat[] = ['human', 'json', 'github'];

/** `N errors in M files` (`N errors, K not listed, in at least M files`) or `apis: N APIs valid`. */
export function summary(root: string, diagnostics: readonly Diagnostic[], bundle: Bundle | undefined, omitted: OmittedCounts = {}): string {
  if (diagnostics.length) {
    const capped = capPerCode(diagnostics, omitted);
    const files = new Set(capped.diagnostics.map((d) => d.file)).size;
    const hidden = Object.values(capped.omitted).reduce((a, b) => a + b, 0);
    const total = capped.diagnostics.length + hidden;
    const count = (n: number) => n.toLocaleString('en-US');
    return hidden
      ? `${count(total)} errors, ${count(hidden)} not listed, in at least ${files} file${files === 1 ? '' : 's'}`
      : `${total} error${total === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'}`;
  }
  const count = bundle ? Object.keys(bundle.apis).length : 0;
  return `${root}: ${count} API${count === 1 ? '' : 's'} valid`;
}

/** Print the result; `extra` goes into the JSON document (e.g. bundle id and file). */
export function report(
  root: string,
  format: DiagnosticFormat,
  diagnostics: readonly Diagnostic[],
  bundle: Bundle | undefined,
  extra: Record<string, unknown> = {},
  omitted: OmittedCounts = {},
): void {
  if (format === 'json') {
    const capped = capPerCode(diagnostics, omitted);
    const more = omittedItems(capped.omitted);
    const document = {
      ok: diagnostics.length === 0,
      apis: bundle ? Object.keys(bundle.apis).length : undefined,
      ...extra,
      diagnostics: capped.diagnostics.map((d) => ({ ...d, file: joinRoot(root, d.file) })),
      ...(more.length ? { omitted: more } : {}),
    };
    process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
    return;
  }
  const text = formatDiagnostics(diagnostics, format, { root, omitted });
  if (text) process.stdout.write(`${text}\n`);
  process.stdout.write(`${summary(root, diagnostics, bundle, omitted)}\n`);
}

/** A usage or I/O problem: to stderr, exit 2. */
export function fail(command: string, message: string): number {
  process.stderr.write(`sluice ${command}: ${message}\n`);
  return 2;
}

/**
 * Compile the folder for a command that needs its bundle: the bundle, or — after printing the
 * diagnostics in `format` (exit 1) or why the folder could not be read (exit 2) — the exit code.
 */
export async function compileOrReport(command: string, root: string, options: Partial<CompileOptions> = {}, format: DiagnosticFormat = 'human'): Promise<Bundle | number> {
  let result;
  try {
    result = await compileFolder(root, options);
  } catch (error) {
    return fail(command, (error as Error).message); // unreadable folder, unknown --env (EnvironmentError)
  }
  if (!result.bundle) {
    report(root, format, result.diagnostics, undefined, {}, result.omitted);
    return 1;
  }
  return result.bundle;
}

/** Compile the folder, print what was found in `format`; the exit code (0 clean, 1 problems, 2 unreadable). */
/**
 * Validates the folder as it is and, without `--env`, once more with each overlay of
 * APIS_DIR/environments/ applied, so a pull request that breaks one environment fails too
 * (a problem found in several runs is listed once).
 */
export async function validateFolder(root: string, format: DiagnosticFormat, options: Partial<CompileOptions>): Promise<number> {
  let result;
  const diagnostics: Diagnostic[] = [];
  try {
    result = await compileFolder(root, options);
    diagnostics.push(...result.diagnostics);
    if (options.environment === undefined) {
      const seen = new Set(diagnostics.map((d) => JSON.stringify(d)));
      for (const environment of overlayNames(root)) {
        for (const d of (await compileFolder(root, { ...options, environment })).diagnostics) {
          const key = JSON.stringify(d);
          if (!seen.has(key)) diagnostics.push(d), seen.add(key);
        }
      }
    }
  } catch (error) {
    return fail('validate', (error as Error).message);
  }
  report(root, format, diagnostics, diagnostics.length ? undefined : result.bundle, {}, result.omitted);
  return diagnostics.length ? 1 : 0;
}

/** The environments APIS_DIR/environments/ names (ENV.json files), sorted. */
function overlayNames(root: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(root, ENVIRONMENTS_DIR));
  } catch {
    return [];
  }
  return names.filter((name) => name.endsWith('.json') && ENVIRONMENT_NAME.test(name.slice(0, -5))).map((name) => name.slice(0, -5)).sort();
}
