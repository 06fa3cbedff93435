/**
 * `sluice diff REF_A REF_B [--repo PATH] [--apis-dir apis] [--store DIR] [--env ENV] [--format human|markdown|json]`
 * `--env ENV` compiles both refs with the overlay environments/ENV.json.
 *
 * Prints what deploying B over A changes, API by API and field by field, dangerous changes first.
 * Each REF is a git ref compiled from exactly its tree; with `--store DIR`, `current` names the
 * store's deployed release (so `sluice diff current HEAD --store DIR` previews a deploy).
 * Exit 0 diff printed (dangerous or not), 1 a ref does not compile, 2 usage, unknown ref or store problem.
 */
import type { Bundle } from '../schemas/types.ts';
import { diffBundles, formatDiff, type DiffFormat } from '../compiler/diff.ts';
import { GitError, short } from '../compiler/git.ts';
import { EnvironmentError } from '../compiler/environment.ts';
import { formatDiagnostics } from '../compiler/index.ts';
import { Store, StoreError } from '../compiler/store.ts';
import { choice, parseArgs, UsageError } from './args.ts';
import { compileRef } from './compile-ref.ts';
import { fail } from './report.ts';

const USAGE = 'usage: sluice diff REF_A REF_B [--repo PATH] [--apis-dir apis] [--store DIR] [--env ENV] [--format human|markdown|json]';

type Side = { bundle: Bundle; label: string; missing?: string } | { problem: number };

export async function run(args: string[]): Promise<number> {
  let parsed;
  let format: DiffFormat;
  try {
    parsed = parseArgs(args, ['--repo', '--apis-dir', '--store', '--format', '--env']);
    if (parsed.positionals.length !== 2) throw new UsageError(`two refs are needed (got ${parsed.positionals.length})`);
    format = choice(parsed.flags, '--format', ['human', 'markdown', 'json'] as const, 'human')!;
  } catch (error) {
    if (error instanceof UsageError) return fail('diff', `${error.message}\n${USAGE}`);
    throw error;
  }
  const { flags } = parsed;
  const [a, b] = parsed.positionals;
  const load = (ref: string) => side(ref, { repo: flags.get('--repo') ?? '.', apisDir: flags.get('--apis-dir'), store: flags.get('--store'), environment: flags.get('--env') });
  const [from, to] = await Promise.all([load(a), load(b)]);
  if ('problem' in from) return from.problem;
  if ('problem' in to) return to.problem;
  // One side from before the first API is an empty set of APIs; both sides without one is a mistake.
  if (from.missing && to.missing) return fail('diff', `${from.missing}, nor at ${b}; use --apis-dir`);
  process.stdout.write(formatDiff(diffBundles(from.bundle, to.bundle, { from: from.label, to: to.label }), format));
  return 0;
}

async function side(ref: string, o: { repo: string; apisDir?: string; store?: string; environment?: string }): Promise<Side> {
  if (ref === 'current' && o.store) {
    try {
      const store = new Store(o.store);
      const pointer = await store.current();
      if (!pointer) return { problem: fail('diff', `the store ${store.dir} has no current release yet`) };
      return { bundle: await store.readBundle(pointer.id), label: `current: ${pointer.tag}, deployment ${pointer.deployment}` };
    } catch (error) {
      if (error instanceof StoreError) return { problem: fail('diff', error.message) };
      throw error;
    }
  }
  try {
    const { tree, result } = await compileRef(o.repo, ref, { apisDir: o.apisDir, allowMissingApisDir: true, environment: o.environment });
    if (!result.bundle) {
      process.stderr.write(`sluice diff: ${ref} (${short(tree.commit)}) does not compile:\n${formatDiagnostics(result.diagnostics, 'human', { root: tree.apisDir, omitted: result.omitted })}\n`);
      return { problem: 1 };
    }
    if (tree.apisDirMissing) {
      return { bundle: result.bundle, label: `${ref} (no ${tree.apisDir}/)`, missing: `there is no folder "${tree.apisDir}" in the tree at ${ref} (${short(tree.commit)})` };
    }
    return { bundle: result.bundle, label: ref };
  } catch (error) {
    if (error instanceof GitError || error instanceof EnvironmentError) return { problem: fail('diff', error.message) };
    throw error;
  }
}
