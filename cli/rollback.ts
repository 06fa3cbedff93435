/**
 * `sluice rollback TAG --store DIR [--format human|json]`: re-point the store's `current` to the
 * latest deployment of TAG (its bundle verified first) and log it as a new deployment of kind
 * rollback. Release rules are not enforced (a rollback is the way out of a bad release); what they
 * would say is printed as warnings. Exit 0 done (or TAG already current), 2 usage, unknown tag or store problem.
 */
import { short } from '../compiler/git.ts';
import { formatDiagnostics } from '../compiler/index.ts';
import { checkReleaseRules } from '../compiler/release-rules.ts';
import { Store, StoreError } from '../compiler/store.ts';
import { choice, parseArgs, UsageError } from './args.ts';
import { fail } from './report.ts';

const USAGE = 'usage: sluice rollback TAG --store DIR [--format human|json]';

export async function run(args: string[]): Promise<number> {
  let tag: string;
  let flags: Map<string, string>;
  let format: 'human' | 'json';
  try {
    const parsed = parseArgs(args, ['--store', '--format']);
    if (parsed.positionals.length !== 1) throw new UsageError('one TAG is needed');
    [tag] = parsed.positionals;
    flags = parsed.flags;
    if (!flags.get('--store')) throw new UsageError('--store DIR is required');
    format = choice(flags, '--format', ['human', 'json'] as const, 'human')!;
  } catch (error) {
    if (error instanceof UsageError) return fail('rollback', `${error.message}\n${USAGE}`);
    throw error;
  }
  const store = new Store(flags.get('--store')!);
  try {
    // A corrupted `current` is what a rollback repairs: it is not a reason to refuse one.
    const { pointer: before, corrupt } = await store.currentOrProblem();
    if (corrupt) process.stderr.write(`sluice rollback: warning: ${corrupt.message.split(';')[0]}; replacing it\n`);
    const target = [...(await store.releases())].reverse().find((e) => e.tag === tag);
    if (before && target && before.id !== target.bundleId) {
      // Advisory only: what the release rules would refuse in this move.
      const warnings = checkReleaseRules(await store.readBundle(before.id), await store.readBundle(target.bundleId), {
        release: { tag: before.tag, deployment: before.deployment },
      });
      if (warnings.length) process.stderr.write(`sluice rollback: warning: the release rules would refuse this as a release:\n${formatDiagnostics(warnings, 'human')}\n`);
    }
    const { entry, unchanged, restored } = await store.rollback(tag);
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify({ unchanged, entry, restored, previous: before ?? null }, null, 2)}\n`);
      return 0;
    }
    if (unchanged) {
      process.stdout.write(`${tag} is already current (deployment ${entry.deployment}, bundle ${entry.bundleId}); nothing changed\n`);
      return 0;
    }
    const was = before ? ` (was ${before.tag}, deployment ${before.deployment})` : '';
    process.stdout.write(`rolled back to ${tag}: deployment ${entry.deployment} serves bundle ${entry.bundleId} from commit ${short(entry.commit)}${was}\n`);
    process.stdout.write(`deployment ${entry.deployment}\n`);
    return 0;
  } catch (error) {
    if (error instanceof StoreError) return fail('rollback', error.message);
    throw error;
  }
}
