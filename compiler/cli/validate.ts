/**
 * `sluice validate [APIS_DIR] [--format human|json|github] [--profile production] [--against REF]`
 * Exit 0 clean, 1 diagnostics, 2 usage error (unknown flag, folder missing).
 * `--against REF` (release rules against a previous release) is implemented by validate-against.ts.
 */
import { compileFolder, type CompileOptions } from '../compile.ts';
import { choice, parseArgs, UsageError } from './args.ts';
import { fail, FORMATS, report } from './report.ts';
import type { DiagnosticFormat } from '../format.ts';

const USAGE = 'usage: sluice validate [APIS_DIR] [--format human|json|github] [--profile production] [--against REF [--repo PATH]] [--store DIR]';

export async function run(args: string[]): Promise<number> {
  let parsed;
  let format;
  let profile;
  try {
    parsed = parseArgs(args, ['--format', '--profile', '--against', '--repo', '--store']);
    if (parsed.positionals.length > 1) throw new UsageError(`one APIS_DIR at most (got ${parsed.positionals.join(' ')})`);
    if (parsed.flags.has('--repo') && !parsed.flags.has('--against')) throw new UsageError('--repo goes with --against');
    if (parsed.flags.get('--against') === 'current' && !parsed.flags.get('--store')) throw new UsageError('--against current needs --store DIR');
    format = choice(parsed.flags, '--format', FORMATS, 'human')!;
    profile = choice(parsed.flags, '--profile', ['production'] as const, undefined);
  } catch (error) {
    if (error instanceof UsageError) return fail('validate', `${error.message}\n${USAGE}`);
    throw error;
  }
  const root = parsed.positionals[0] ?? 'apis';
  if (parsed.flags.has('--against') || parsed.flags.has('--store')) {
    return (await import('./validate-against.ts')).validateAgainst(root, format, profile, parsed.flags);
  }
  return validateFolder(root, format, { profile });
}

/** Compile the folder, print what was found in `format`; the exit code (0 clean, 1 problems, 2 unreadable). */
export async function validateFolder(root: string, format: DiagnosticFormat, options: Partial<CompileOptions>): Promise<number> {
  let result;
  try {
    result = await compileFolder(root, options);
  } catch (error) {
    return fail('validate', (error as Error).message);
  }
  report(root, format, result.diagnostics, result.bundle, {}, result.omitted);
  return result.diagnostics.length ? 1 : 0;
}
