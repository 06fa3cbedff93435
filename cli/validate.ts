/**
 * `sluice validate [APIS_DIR] [--format human|json|github] [--profile production] [--env ENV] [--against REF]`
 * `--env ENV` applies the overlay APIS_DIR/environments/ENV.json (compiler/environment.ts); unknown: exit 2.
 * Exit 0 clean, 1 diagnostics, 2 usage error (unknown flag, folder missing).
 * `--against REF` (release rules against a previous release) is implemented by validate-against.ts.
 */
import { choice, parseArgs, UsageError } from './args.ts';
import { fail, FORMATS, validateFolder } from './report.ts';

const USAGE = 'usage: sluice validate [APIS_DIR] [--format human|json|github] [--profile production] [--env ENV] [--against REF [--repo PATH]] [--store DIR]';

export async function run(args: string[]): Promise<number> {
  let parsed;
  let format;
  let profile;
  try {
    parsed = parseArgs(args, ['--format', '--profile', '--env', '--against', '--repo', '--store']);
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
  return validateFolder(root, format, { profile, environment: parsed.flags.get('--env') });
}
