/**
 * `sluice validate [APIS_DIR] --against REF [--repo PATH] [--store DIR] [--format human|json|github] [--profile production]`
 * `sluice validate [APIS_DIR] --store DIR [--against current]`
 *
 * Validates the working folder as usual and, in the same run, checks the release rules against
 * the previous release: the tree at REF (compiled from git; REF's folder is APIS_DIR's path inside
 * the repository), or the store's `current` release. With --store, a tag's deployment number is
 * named in the messages. Exit 0 clean, 1 diagnostics, 2 usage, unknown ref, or REF does not compile.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Bundle } from '../../schemas/types.ts';
import { compileFolder } from '../compile.ts';
import { GitError, short, workTreeRoot } from '../git.ts';
import { formatDiagnostics } from '../index.ts';
import { releaseRules, type PreviousRelease } from '../release-rules.ts';
import { Store, StoreError } from '../store.ts';
import { choice, parseArgs, UsageError } from './args.ts';
import { compileRef } from './compile-ref.ts';
import { fail, FORMATS, report } from './report.ts';

const USAGE = 'usage: sluice validate [APIS_DIR] --against REF [--repo PATH] [--store DIR] [--format human|json|github] [--profile production]';

export async function run(args: string[]): Promise<number> {
  let parsed;
  let format;
  let profile;
  try {
    parsed = parseArgs(args, ['--format', '--profile', '--against', '--repo', '--store']);
    if (parsed.positionals.length > 1) throw new UsageError(`one APIS_DIR at most (got ${parsed.positionals.join(' ')})`);
    format = choice(parsed.flags, '--format', FORMATS, 'human')!;
    profile = choice(parsed.flags, '--profile', ['production'] as const, undefined);
    if (parsed.flags.get('--against') === 'current' && !parsed.flags.get('--store')) throw new UsageError('--against current needs --store DIR');
  } catch (error) {
    if (error instanceof UsageError) return fail('validate', `${error.message}\n${USAGE}`);
    throw error;
  }
  const { flags } = parsed;
  const root = parsed.positionals[0] ?? 'apis';
  const against = flags.get('--against') ?? 'current';
  const storeDir = flags.get('--store');

  let previous: { bundle: Bundle; release: PreviousRelease };
  try {
    const store = storeDir ? new Store(storeDir) : undefined;
    if (against === 'current' && store) {
      const pointer = await store.current();
      if (!pointer) return validate(root, format, profile, undefined); // nothing released yet: nothing to break
      previous = { bundle: await store.readBundle(pointer.id), release: { tag: pointer.tag, deployment: pointer.deployment } };
    } else {
      const loaded = await fromGit(root, against, flags.get('--repo'));
      if (typeof loaded === 'number') return loaded;
      if ('missing' in loaded) {
        process.stderr.write(`sluice validate: note: ${loaded.missing}: no APIs there, so no release rule can be broken\n`);
        return validate(root, format, profile, undefined);
      }
      const deployment = store && loaded.tag ? [...(await store.releases())].reverse().find((e) => e.tag === loaded.tag)?.deployment : undefined;
      previous = { bundle: loaded.bundle, release: { tag: loaded.tag, deployment, ref: loaded.tag ? undefined : `${against} (${short(loaded.commit)})` } };
    }
  } catch (error) {
    if (error instanceof GitError || error instanceof StoreError) return fail('validate', error.message);
    throw error;
  }
  return validate(root, format, profile, previous);
}

async function validate(
  root: string,
  format: 'human' | 'json' | 'github',
  profile: 'production' | undefined,
  previous: { bundle: Bundle; release: PreviousRelease } | undefined,
): Promise<number> {
  let result;
  try {
    result = await compileFolder(root, { profile, ...(previous ? { previous: previous.bundle, releaseRules: releaseRules(previous.release) } : {}) });
  } catch (error) {
    return fail('validate', (error as Error).message);
  }
  report(root, format, result.diagnostics, result.bundle);
  return result.diagnostics.length ? 1 : 0;
}

/** Compile REF from the repository holding APIS_DIR (or --repo), at APIS_DIR's path inside it. */
async function fromGit(root: string, ref: string, repo: string | undefined): Promise<{ bundle: Bundle; tag?: string; commit: string } | { missing: string } | number> {
  const repoDir = repo ?? root;
  const top = await workTreeRoot(repoDir);
  const absRoot = await realpath(path.resolve(root)).catch(() => path.resolve(root));
  const inRepo = path.relative(top, absRoot);
  if (inRepo.startsWith('..') || path.isAbsolute(inRepo)) return fail('validate', `${root} is not inside the repository ${top}`);
  const { tree, result } = await compileRef(top, ref, { apisDir: inRepo.split(path.sep).join('/') || '.', allowMissingApisDir: true });
  if (tree.apisDirMissing) return { missing: `there is no folder "${tree.apisDir}" in the tree at ${ref} (${short(tree.commit)})` };
  if (!result.bundle) {
    process.stderr.write(`sluice validate: ${ref} (${short(tree.commit)}) does not compile, so the release rules cannot be checked against it:\n${formatDiagnostics(result.diagnostics, 'human', { root: tree.apisDir })}\n`);
    return 2;
  }
  return { bundle: result.bundle, tag: tree.tag, commit: tree.commit };
}
