/**
 * `sluice compile --ref REF [--repo PATH] --store DIR [--release-tags GLOB] [--apis-dir apis]
 *                 [--format human|json|github] [--profile production] [--sign-key FILE|env:NAME]`
 * (or `--out DIR` instead of `--store`: just write the bundle there). `--env ENV` applies the overlay
 * environments/ENV.json; without it a namespaced tag `prod/v1.4` applies `prod` (compiler/environment.ts). --sign-key writes the
 * bundle's Ed25519 signature beside it (`<id>.json.sig`, in the store before `current` moves).
 *
 * Compiles exactly the tree at REF (never the working tree). REF a tag matching --release-tags
 * (default: every tag) -> a **release**: release rules checked against the store's current release,
 * bundle stored, log appended, `current` moved, deployment number printed. REF a commit or branch
 * (or a tag not matching) -> a **saved** bundle: stored and diffable, `current` never moves.
 * Exit 0 done, 1 diagnostics or release-rule violations (nothing deployed), 2 usage, unknown ref or store problem.
 */
import type { Bundle } from '../schemas/types.ts';
import { GitError, readRef, short, type RefTree } from '../compiler/git.ts';
import { compileTree, COMPILER_VERSION, writeBundle, type CompileResult, type Diagnostic } from '../compiler/index.ts';
import { checkReleaseRules } from '../compiler/release-rules.ts';
import { EnvironmentError, environmentOfRef } from '../compiler/environment.ts';
import { Store, StoreError, type BundleSigner } from '../compiler/store.ts';
import { choice, parseArgs, UsageError } from './args.ts';
import { fail, FORMATS, report } from './report.ts';
import { loadSigningKey, signerFor } from './sign-key.ts';

const USAGE =
  'usage: sluice compile --ref REF [--repo PATH] --store DIR [--release-tags GLOB] [--apis-dir apis] [--format human|json|github] [--profile production] [--sign-key FILE|env:NAME] [--env ENV]\n' +
  '       sluice compile --ref REF [--repo PATH] --out DIR [--sign-key FILE|env:NAME] [--env ENV]';

/** Compile the tree at REF. Git problems throw GitError, an unknown environment EnvironmentError; file problems are diagnostics. */
export async function compileRef(
  repo: string,
  ref: string,
  options: { apisDir?: string; profile?: 'production'; allowMissingApisDir?: boolean; environment?: string } = {},
): Promise<{ tree: RefTree; result: CompileResult }> {
  const tree = await readRef(repo, ref, { apisDir: options.apisDir, allowMissingApisDir: options.allowMissingApisDir });
  const source = { kind: 'git' as const, repo: tree.repo, ref, commit: tree.commit, ...(tree.tag ? { tag: tree.tag } : {}), compilerVersion: COMPILER_VERSION };
  // --env, else the prefix of a namespaced release tag (prod/v1.4); EnvironmentError when unknown
  const environment = environmentOfRef(tree.files, options.environment, tree.tag, `${tree.apisDir}/ at ${ref}`);
  const result = compileTree(tree.files, { source, profile: options.profile, environment });
  if (tree.diagnostics.length) return { tree, result: { diagnostics: [...tree.diagnostics, ...result.diagnostics], ...(result.omitted ? { omitted: result.omitted } : {}) } };
  return { tree, result };
}

/** `v*`, `release-?.*`: `*` any characters (also `/`), `?` one; several globs separated by commas. */
export function tagMatches(glob: string, tag: string): boolean {
  return glob.split(',').some((one) => {
    const pattern = one.trim().replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    return new RegExp(`^${pattern}$`).test(tag);
  });
}

export async function run(args: string[]): Promise<number> {
  let flags: Map<string, string>;
  let format;
  let profile;
  let sign;
  try {
    const parsed = parseArgs(args, ['--ref', '--repo', '--store', '--out', '--release-tags', '--apis-dir', '--format', '--profile', '--sign-key', '--env']);
    if (parsed.positionals.length) throw new UsageError(`compile --ref takes no APIS_DIR (use --apis-dir; got ${parsed.positionals.join(' ')})`);
    flags = parsed.flags;
    if (!flags.get('--store') && !flags.get('--out')) throw new UsageError('--store DIR (or --out DIR) is required');
    if (flags.get('--store') && flags.get('--out')) throw new UsageError('--store and --out do not go together');
    format = choice(flags, '--format', FORMATS, 'human')!;
    profile = choice(flags, '--profile', ['production'] as const, undefined);
    sign = signerFor(flags.has('--sign-key') ? loadSigningKey(flags.get('--sign-key')!) : undefined);
  } catch (error) {
    if (error instanceof UsageError) return fail('compile', `${error.message}\n${USAGE}`);
    throw error;
  }
  const ref = flags.get('--ref')!;
  const repo = flags.get('--repo') ?? '.';
  const storeDir = flags.get('--store');
  const releaseTags = flags.get('--release-tags') ?? '*';

  let compiled;
  try {
    compiled = await compileRef(repo, ref, { apisDir: flags.get('--apis-dir'), profile, environment: flags.get('--env') });
  } catch (error) {
    if (error instanceof GitError || error instanceof EnvironmentError) return fail('compile', error.message);
    throw error;
  }
  const { tree, result } = compiled;
  const root = tree.apisDir;
  if (!result.bundle) {
    report(root, format, result.diagnostics, undefined, { ref, commit: tree.commit }, result.omitted);
    return 1;
  }
  const bundle = result.bundle;
  const say = (line: string) => {
    if (format !== 'json') process.stdout.write(`${line}\n`);
  };

  try {
    if (!storeDir) {
      const out = flags.get('--out')!;
      const file = await writeBundle(out, bundle, { sign }).catch((error: unknown) => {
        throw new StoreError('store-io', `cannot write the bundle to ${out}: ${(error as Error).message}`);
      });
      if (format === 'json') report(root, format, [], bundle, { kind: 'bundle', ref, commit: tree.commit, bundleId: bundle.id, file });
      else report(root, format, [], bundle);
      say(`wrote ${file} (${ref} at ${short(tree.commit)})`);
      say(bundle.id);
      return 0;
    }
    const store = new Store(storeDir);
    if (tree.tag && tagMatches(releaseTags, tree.tag)) return await release(store, tree, bundle, { root, format, say, sign });
    const saved = await store.save(bundle, { ref, commit: tree.commit, compilerVersion: COMPILER_VERSION }, sign);
    const current = await store.current();
    if (format === 'json') {
      report(root, format, [], bundle, { kind: 'saved', ref, commit: tree.commit, bundleId: bundle.id, file: store.bundlePath(bundle.id), current: current ?? null });
      return 0;
    }
    report(root, format, [], bundle);
    if (tree.tag) say(`tag ${tree.tag} does not match --release-tags "${releaseTags}": saved, not released`);
    say(`saved ${ref} (commit ${short(saved.commit)}) as bundle ${bundle.id}`);
    say(`current not moved: ${current ? `${current.tag} (deployment ${current.deployment})` : 'nothing released yet'}`);
    return 0;
  } catch (error) {
    if (error instanceof StoreError) return fail('compile', error.message);
    throw error;
  }
}

async function release(
  store: Store,
  tree: RefTree,
  bundle: Bundle,
  out: { root: string; format: 'human' | 'json' | 'github'; say: (line: string) => void; sign?: BundleSigner },
): Promise<number> {
  const tag = tree.tag!;
  const outcome = await store.release(bundle, { tag, commit: tree.commit, compilerVersion: COMPILER_VERSION, repo: tree.repo }, (previous): Diagnostic[] =>
    previous
      ? checkReleaseRules(previous.bundle, bundle, { release: { tag: previous.pointer.tag, deployment: previous.pointer.deployment }, files: tree.files })
      : [],
    out.sign,
  );
  const { entry } = outcome;
  if (outcome.problems.length) {
    report(out.root, out.format, outcome.problems, undefined, { kind: 'release', tag, commit: tree.commit, released: false });
    if (out.format !== 'json') process.stderr.write(`sluice compile: release ${tag} refused by the release rules; current not moved\n`);
    return 1;
  }
  if (out.format === 'json') {
    report(out.root, out.format, [], bundle, { ...entry, kind: 'release', entryKind: entry.kind, released: !outcome.unchanged, unchanged: outcome.unchanged, tagKind: tree.tagKind, file: store.bundlePath(bundle.id) });
    return 0;
  }
  report(out.root, out.format, [], bundle);
  if (outcome.unchanged) {
    out.say(`${tag} is already current (deployment ${entry.deployment}, bundle ${bundle.id}); nothing changed`);
  } else {
    out.say(`released ${tag} (${tree.tagKind} tag, commit ${short(tree.commit)}) as deployment ${entry.deployment}, bundle ${bundle.id}`);
    if (out.sign) out.say(`signed ${store.bundlePath(bundle.id)}.sig`);
    out.say(`current -> ${tag} (deployment ${entry.deployment})`);
  }
  out.say(`deployment ${entry.deployment}`);
  return 0;
}
