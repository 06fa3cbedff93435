/**
 * `sluice validate [APIS_DIR] [--format human|json|github] [--profile production] [--against REF]`
 * Exit 0 clean, 1 diagnostics, 2 usage error (unknown flag, folder missing).
 * `--against REF` (release rules against a previous release) is implemented by validate-against.ts.
 */
import { compileFolder } from '../compile.ts';
import { choice, parseArgs, UsageError } from './args.ts';
import { fail, FORMATS, report } from './report.ts';
import { loadOptional } from './optional.ts';

export async function run(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(args, ['--format', '--profile', '--against', '--repo', '--store']);
    if (parsed.positionals.length > 1) throw new UsageError(`one APIS_DIR at most (got ${parsed.positionals.join(' ')})`);
    if (parsed.flags.has('--against') || parsed.flags.has('--store')) {
      return await loadOptional('validate --against', 'validate-against', () => import('./validate-against.ts' as string), args);
    }
    if (parsed.flags.has('--repo')) throw new UsageError('--repo goes with --against');
    const format = choice(parsed.flags, '--format', FORMATS, 'human')!;
    const profile = choice(parsed.flags, '--profile', ['production'] as const, undefined);
    const root = parsed.positionals[0] ?? 'apis';
    let result;
    try {
      result = await compileFolder(root, { profile });
    } catch (error) {
      return fail('validate', (error as Error).message);
    }
    report(root, format, result.diagnostics, result.bundle);
    return result.diagnostics.length ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) return fail('validate', `${error.message}\nusage: sluice validate [APIS_DIR] [--format human|json|github] [--profile production] [--against REF]`);
    throw error;
  }
}
