/**
 * `sluice compile [APIS_DIR] --out DIR [--format human|json|github] [--profile production] [--sign-key FILE|env:NAME] [--env ENV]`
 * Validates, writes DIR/<bundle-id>.json (temp file + rename; with --sign-key its Ed25519
 * signature DIR/<bundle-id>.json.sig first) and prints the bundle id as the last line. Exit 0 written, 1 diagnostics (nothing written), 2 usage error.
 *
 * `sluice compile --ref REF [--repo PATH] [--store DIR | --out DIR]` compiles a git ref instead; that
 * branch lives in compile-ref.ts (GitOps), loaded only when asked for.
 */
import { writeBundle } from '../compiler/bundle.ts';
import { choice, parseArgs, UsageError } from './args.ts';
import { compileOrReport, fail, FORMATS, report } from './report.ts';
import { loadSigningKey, signerFor } from './sign-key.ts';

const USAGE = 'usage: sluice compile [APIS_DIR] --out DIR [--format human|json|github] [--profile production] [--sign-key FILE|env:NAME] [--env ENV]\n       sluice compile --ref REF [--repo PATH] --store DIR [--sign-key FILE|env:NAME] [--env ENV]';

export async function run(args: string[]): Promise<number> {
  try {
    // Git refs: a separate module (compile-ref.ts) with its own flags.
    if (args.some((arg) => arg === '--ref' || arg.startsWith('--ref='))) {
      return (await import('./compile-ref.ts')).run(args);
    }
    const { positionals, flags } = parseArgs(args, ['--out', '--format', '--profile', '--sign-key', '--env']);
    if (positionals.length > 1) throw new UsageError(`one APIS_DIR at most (got ${positionals.join(' ')})`);
    const out = flags.get('--out');
    if (!out) throw new UsageError('--out DIR is required');
    const format = choice(flags, '--format', FORMATS, 'human')!;
    const profile = choice(flags, '--profile', ['production'] as const, undefined);
    const root = positionals[0] ?? 'apis';
    const signKey = flags.has('--sign-key') ? loadSigningKey(flags.get('--sign-key')!) : undefined;

    const bundle = await compileOrReport('compile', root, { profile, environment: flags.get('--env') }, format);
    if (typeof bundle === 'number') return bundle;
    let file: string;
    try {
      file = await writeBundle(out, bundle, { sign: signerFor(signKey) });
    } catch (error) {
      return fail('compile', `cannot write the bundle to ${out}: ${(error as Error).message}`);
    }
    if (format === 'json') {
      report(root, format, [], bundle, { id: bundle.id, file });
    } else {
      report(root, format, [], bundle);
      const environment = bundle.environment ? ` for environment ${bundle.environment}` : '';
      process.stdout.write(`wrote ${file}${environment}${signKey ? ` (signed: ${file}.sig)` : ''}\n${bundle.id}\n`);
    }
    return 0;
  } catch (error) {
    if (error instanceof UsageError) return fail('compile', `${error.message}\n${USAGE}`);
    throw error;
  }
}
