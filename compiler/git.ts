/**
 * Read exactly the tree at a git ref, through the `git` command line. Never the working tree or the
 * index: an uncommitted edit can never reach a bundle.
 *
 * Contract: `readRef(repo, ref, {apisDir})` resolves REF to a commit (`rev-parse --verify REF^{commit}`),
 * says whether REF names a tag (lightweight or annotated, and which), lists `apisDir` at that commit
 * (`ls-tree -r -z -l`) and reads every `.json` blob under it in one `cat-file --batch` process.
 * Paths in the result are relative to the APIs root ("orders/plans/gold.json"). Every git output
 * is bounded; failures are `GitError`s with a stable code.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { diagnosticForFile, type Diagnostic } from './diagnostic.ts';
import { decodeText, MAX_FILE_BYTES, type SourceFile } from './source.ts';

export interface ResolvedRef {
  /** The repository as given, made absolute. */
  repo: string;
  /** The ref as asked for. */
  ref: string;
  /** Full commit id the ref points to. */
  commit: string;
  /** Tag name (without refs/tags/) when REF names a tag. */
  tag?: string;
  /** `annotated` (a tag object) or `lightweight` (a plain ref to the commit); absent when not a tag. */
  tagKind?: 'annotated' | 'lightweight';
}

export interface RefTree extends ResolvedRef {
  apisDir: string;
  /** Every plain file under the APIs folder (non-JSON files with empty text, as readFolder lists them). */
  files: SourceFile[];
  /** Tree entries that cannot be compiled from git (symbolic links, submodules, oversized files). */
  diagnostics: Diagnostic[];
  /** The tree has no APIs folder (only with `allowMissingApisDir`; `files` is then empty). */
  apisDirMissing?: boolean;
}

export type GitErrorCode =
  | 'git-missing'
  | 'git-not-a-repo'
  | 'git-unknown-ref'
  | 'git-bad-ref'
  | 'git-no-apis-dir'
  | 'git-too-large'
  | 'git-timeout'
  | 'git-failed';

export class GitError extends Error {
  constructor(readonly code: GitErrorCode, message: string) {
    super(message);
    this.name = 'GitError';
  }
}

export interface ReadRefOptions {
  /** Folder holding the API folders, relative to the repository root. Default `apis`. */
  apisDir?: string;
  /** Largest single file read, in bytes (never more than the compiler's MAX_FILE_BYTES). */
  maxFileBytes?: number;
  /** Largest total of all files read, in bytes. Default 256 MiB. */
  maxTotalBytes?: number;
  /** Time-out for each git process, in ms. Default 60 s. */
  timeoutMs?: number;
  /**
   * A tree without the APIs folder is an empty tree (`apisDirMissing`), not a `git-no-apis-dir`
   * error: what diff and validate --against want for a base from before the first API.
   */
  allowMissingApisDir?: boolean;
}

const DEFAULTS = { apisDir: 'apis', maxFileBytes: MAX_FILE_BYTES, maxTotalBytes: 256 * 1024 * 1024, timeoutMs: 60_000, allowMissingApisDir: false };
/** Output bound for the small plumbing commands (rev-parse, cat-file -t). */
const SMALL_OUTPUT = 64 * 1024;

interface GitRun {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** The environment git runs with: no prompts, no inherited GIT_DIR/GIT_WORK_TREE overriding `-C`. */
function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' };
  for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_NAMESPACE']) delete env[name];
  return env;
}

/**
 * Run `git -C repo ...args`, collect at most `maxBytes` of stdout (more is a `git-too-large`
 * error and the process is killed), feed `input` to stdin when given.
 */
function git(repo: string, args: string[], opts: { maxBytes: number; timeoutMs: number; input?: string }): Promise<GitRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-C', repo, ...args], { env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    let failure: GitError | undefined;
    const fail = (error: GitError) => {
      if (!failure) failure = error;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(() => fail(new GitError('git-timeout', `git ${args[0]} took longer than ${opts.timeoutMs} ms`)), opts.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > opts.maxBytes) return fail(new GitError('git-too-large', `git ${args[0]} printed more than ${opts.maxBytes} bytes`));
      chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < SMALL_OUTPUT) stderr += chunk.toString('utf8');
    });
    child.stdin.on('error', () => {}); // git may exit before reading all of stdin; the exit code tells.
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(error.code === 'ENOENT' ? new GitError('git-missing', 'the git command was not found on PATH') : new GitError('git-failed', error.message));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failure) return reject(failure);
      resolve({ code: code ?? 1, stdout: Buffer.concat(chunks), stderr: stderr.trim() });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Resolve REF in the repository at `repo` to a commit, and say whether (and how) it is a tag. */
export async function resolveRef(repo: string, ref: string, options: ReadRefOptions = {}): Promise<ResolvedRef> {
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const absRepo = path.resolve(repo);
  if (!ref || ref.startsWith('-') || /[\0\n\r]/.test(ref)) throw new GitError('git-bad-ref', `"${ref}" is not a valid git ref`);
  const check = await git(absRepo, ['rev-parse', '--git-dir'], { maxBytes: SMALL_OUTPUT, timeoutMs });
  if (check.code !== 0) throw new GitError('git-not-a-repo', `${absRepo} is not a git repository (${firstLine(check.stderr)})`);

  const commitRun = await git(absRepo, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], { maxBytes: SMALL_OUTPUT, timeoutMs });
  const commit = commitRun.stdout.toString('utf8').trim();
  if (commitRun.code !== 0 || !/^[0-9a-f]{40,64}$/.test(commit)) {
    throw new GitError('git-unknown-ref', `unknown ref "${ref}" in ${absRepo} (not a commit, branch or tag)`);
  }

  // Which ref did git pick? `--symbolic-full-name` names refs/tags/X for a tag (either kind), and
  // prints nothing for a bare commit id. (No --end-of-options here: git 2.39 echoes it; a leading
  // "-" was refused above.)
  const nameRun = await git(absRepo, ['rev-parse', '--symbolic-full-name', ref], { maxBytes: SMALL_OUTPUT, timeoutMs });
  const fullName = nameRun.code === 0 ? nameRun.stdout.toString('utf8').trim().split('\n')[0] : '';
  const resolved: ResolvedRef = { repo: absRepo, ref, commit };
  if (fullName.startsWith('refs/tags/')) {
    resolved.tag = fullName.slice('refs/tags/'.length);
    const typeRun = await git(absRepo, ['cat-file', '-t', fullName], { maxBytes: SMALL_OUTPUT, timeoutMs });
    resolved.tagKind = typeRun.stdout.toString('utf8').trim() === 'tag' ? 'annotated' : 'lightweight';
  }
  return resolved;
}

/** Read every `.json` file under the APIs folder in the tree at REF. */
export async function readRef(repo: string, ref: string, options: ReadRefOptions = {}): Promise<RefTree> {
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof DEFAULTS;
  const resolved = await resolveRef(repo, ref, o);
  const apisDir = normaliseApisDir(o.apisDir);
  const listing = await git(resolved.repo, ['ls-tree', '-r', '-z', '-l', '--full-tree', resolved.commit, '--', apisDir === '.' ? '.' : apisDir], {
    maxBytes: 64 * 1024 * 1024,
    timeoutMs: o.timeoutMs,
  });
  if (listing.code !== 0) throw new GitError('git-failed', `git ls-tree failed for ${resolved.commit}: ${firstLine(listing.stderr)}`);

  const prefix = apisDir === '.' ? '' : `${apisDir}/`;
  const wanted: { object: string; size: number; path: string }[] = [];
  const others: SourceFile[] = [];
  const diagnostics: Diagnostic[] = [];
  let total = 0;
  let entries = 0;
  for (const entry of listing.stdout.toString('utf8').split('\0')) {
    if (!entry) continue;
    // "<mode> SP <type> SP <object> SP+ <size> TAB <path>"
    const tab = entry.indexOf('\t');
    const [mode, type, object, sizeText] = entry.slice(0, tab).split(/ +/);
    const full = entry.slice(tab + 1);
    if (!full.startsWith(prefix)) continue;
    entries += 1;
    const rel = full.slice(prefix.length);
    if (rel.split('/').some((part) => part.startsWith('.'))) continue; // hidden, as in a folder
    if (type !== 'blob' || mode === '120000') {
      diagnostics.push(diagnosticForFile(rel, 'GIT_NOT_A_FILE', `${full} is a ${mode === '120000' ? 'symbolic link' : type} in the tree at ${short(resolved.commit)}; only plain files are compiled from git`));
      continue;
    }
    if (!rel.endsWith('.json')) {
      others.push({ path: rel, text: '' }); // listed so the compiler reports it, never read
      continue;
    }
    const size = Number(sizeText);
    if (size > Math.min(o.maxFileBytes, MAX_FILE_BYTES)) {
      diagnostics.push(diagnosticForFile(rel, 'FILE_TOO_LARGE', `${rel} is ${size} bytes; files larger than ${MAX_FILE_BYTES} bytes are refused`));
      continue;
    }
    total += size;
    if (total > o.maxTotalBytes) throw new GitError('git-too-large', `the files under ${apisDir}/ at ${short(resolved.commit)} exceed ${o.maxTotalBytes} bytes`);
    wanted.push({ object, size, path: rel });
  }
  if (entries === 0 && !(await hasTree(resolved.repo, resolved.commit, apisDir, o.timeoutMs))) {
    if (o.allowMissingApisDir) return { ...resolved, apisDir, files: [], diagnostics: [], apisDirMissing: true };
    throw new GitError('git-no-apis-dir', `there is no folder "${apisDir}" in the tree at ${ref} (${short(resolved.commit)}); use --apis-dir`);
  }
  const blobs = await readBlobs(resolved.repo, wanted, total, o.timeoutMs);
  const files: SourceFile[] = [...wanted.map((w, i) => ({ path: w.path, ...decodeText(blobs[i]) })), ...others];
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ...resolved, apisDir, files, diagnostics };
}

/** Abbreviated commit id for messages and tables. */
export function short(commit: string): string {
  return commit.slice(0, 7);
}

function normaliseApisDir(dir: string): string {
  const clean = path.posix.normalize(dir.replace(/\\/g, '/')).replace(/^\/+|\/+$/g, '');
  if (clean.startsWith('..')) throw new GitError('git-bad-ref', `--apis-dir "${dir}" must be inside the repository`);
  return clean === '' ? '.' : clean;
}

async function hasTree(repo: string, commit: string, dir: string, timeoutMs: number): Promise<boolean> {
  if (dir === '.') return true;
  const run = await git(repo, ['cat-file', '-t', `${commit}:${dir}`], { maxBytes: SMALL_OUTPUT, timeoutMs });
  return run.code === 0 && run.stdout.toString('utf8').trim() === 'tree';
}

/**
 * Read blobs through one `git cat-file --batch`: each answer is "<oid> <type> <size>\n<bytes>\n".
 * Returns the contents in the order asked for.
 */
async function readBlobs(repo: string, wanted: { object: string; size: number; path: string }[], total: number, timeoutMs: number): Promise<Buffer[]> {
  if (wanted.length === 0) return [];
  const headerRoom = wanted.length * 128;
  const run = await git(repo, ['cat-file', '--batch'], { maxBytes: total + headerRoom, timeoutMs, input: wanted.map((w) => `${w.object}\n`).join('') });
  if (run.code !== 0) throw new GitError('git-failed', `git cat-file failed: ${firstLine(run.stderr)}`);
  const out = run.stdout;
  const texts: Buffer[] = [];
  let at = 0;
  for (const w of wanted) {
    const newline = out.indexOf(0x0a, at);
    if (newline < 0) throw new GitError('git-failed', `git cat-file ended early at ${w.path}`);
    const header = out.subarray(at, newline).toString('utf8').split(' ');
    if (header[0] !== w.object || header[1] !== 'blob') throw new GitError('git-failed', `git cat-file answered "${header.join(' ')}" for ${w.path}`);
    const size = Number(header[2]);
    const start = newline + 1;
    if (start + size > out.length) throw new GitError('git-failed', `git cat-file output is truncated at ${w.path}`);
    texts.push(out.subarray(start, start + size));
    at = start + size + 1;
  }
  return texts;
}

function firstLine(text: string): string {
  return text.split('\n')[0] || 'no message';
}

/** The top level of the work tree holding `dir` (realpath), for mapping a folder to its path in the repo. */
export async function workTreeRoot(dir: string, timeoutMs = DEFAULTS.timeoutMs): Promise<string> {
  const run = await git(path.resolve(dir), ['rev-parse', '--show-toplevel'], { maxBytes: SMALL_OUTPUT, timeoutMs }).catch((error: unknown) => {
    throw error instanceof GitError ? error : new GitError('git-failed', String(error));
  });
  if (run.code !== 0) throw new GitError('git-not-a-repo', `${path.resolve(dir)} is not inside a git work tree (${firstLine(run.stderr)})`);
  return run.stdout.toString('utf8').trim();
}
