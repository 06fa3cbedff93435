/**
 * `sluice validate [APIS_DIR] --against REF [--repo PATH] [--store DIR] [--format human|json|github] [--profile production]`
 * `sluice validate [APIS_DIR] --store DIR [--against current]`
 *
 * Validates the working folder as usual and, in the same run, checks the release rules against
 * the previous release: the tree at REF (compiled from git; REF's folder is APIS_DIR's path inside
 * the repository), or the store's `current` release. With --store, a tag's deployment number is
 * named in the messages. Exit 0 clean, 1 diagnostics, 2 unknown ref, store problem, or REF does not
 * compile. Loaded by validate.ts only when --against or --store is given.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Bundle } from '../schemas/types.ts';
import { GitError, short, workTreeRoot } from '../compiler/git.ts';
import { formatDiagnostics } from '../compiler/index.ts';
import { releaseRules, type PreviousRelease } from '../compiler/release-rules.ts';
import { Store, StoreError } from '../compiler/store.ts';
import type { DiagnosticFormat } from '../compiler/format.ts';
import { compileRef } from './compile-ref.ts';
import { EnvironmentError } from '../compiler/environment.ts';
import { fail, validateFolder } from './report.ts';

/**
 * Validate `root` with the release rules against `against` (a git ref, or `current` of the store).
 * Arguments were parsed and checked by validate.ts.
 */
export async function validateAgainst(
  root: string,
  format: DiagnosticFormat,
  profile: 'production' | undefined,
  flags: ReadonlyMap<string, string>,
): Promise<number> {
  const against = flags.get('--against') ?? 'current';
  const storeDir = flags.get('--store');

  let previous: { bundle: Bundle; release: PreviousRelease };
  try {
    const store = storeDir ? new Store(storeDir) : undefined;
    if (against === 'current' && store) {
      const pointer = await store.current();
      if (!pointer) return validateFolder(root, format, { profile, environment: flags.get('--env') }); // nothing released yet: nothing to break
      previous = { bundle: await store.readBundle(pointer.id), release: { tag: pointer.tag, deployment: pointer.deployment } };
    } else {
      const loaded = await fromGit(root, against, flags.get('--repo'));
      if (typeof loaded === 'number') return loaded;
      if ('missing' in loaded) {
        process.stderr.write(`sluice validate: note: ${loaded.missing}: no APIs there, so no release rule can be broken\n`);
        return validateFolder(root, format, { profile, environment: flags.get('--env') });
      }
      const deployment = store && loaded.tag ? [...(await store.releases())].reverse().find((e) => e.tag === loaded.tag)?.deployment : undefined;
      previous = { bundle: loaded.bundle, release: { tag: loaded.tag, deployment, ref: loaded.tag ? undefined : `${against} (${short(loaded.commit)})` } };
    }
  } catch (error) {
    if (error instanceof GitError || error instanceof StoreError || error instanceof EnvironmentError) return fail('validate', error.message);
    throw error;
  }
  return validateFolder(root, format, { profile, environment: flags.get('--env'), previous: previous.bundle, releaseRules: releaseRules(previous.release) });
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
    process.stderr.write(`sluice validate: ${ref} (${short(tree.commit)}) does not compile, so the release rules cannot be checked against it:\n${formatDiagnostics(result.diagnostics, 'human', { root: tree.apisDir, omitted: result.omitted })}\n`);
    return 2;
  }
  return { bundle: result.bundle, tag: tree.tag, commit: tree.commit };
}
