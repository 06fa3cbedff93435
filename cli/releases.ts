/**
 * `sluice releases --store DIR [--format human|json]`: the release history, oldest first, with the
 * deployment `current` points at marked `*`. Exit 0, 2 usage or unreadable store.
 */
import { short } from '../compiler/git.ts';
import { Store, StoreError, type ReleaseEntry } from '../compiler/store.ts';
import { choice, parseArgs, UsageError } from './args.ts';
import { fail } from './report.ts';

const USAGE = 'usage: sluice releases --store DIR [--format human|json]';

export async function run(args: string[]): Promise<number> {
  let flags: Map<string, string>;
  let format: 'human' | 'json';
  try {
    const parsed = parseArgs(args, ['--store', '--format']);
    if (parsed.positionals.length) throw new UsageError(`unexpected ${parsed.positionals.join(' ')}`);
    flags = parsed.flags;
    if (!flags.get('--store')) throw new UsageError('--store DIR is required');
    format = choice(flags, '--format', ['human', 'json'] as const, 'human')!;
  } catch (error) {
    if (error instanceof UsageError) return fail('releases', `${error.message}\n${USAGE}`);
    throw error;
  }
  const store = new Store(flags.get('--store')!);
  if (!(await store.exists())) return fail('releases', `there is no store at ${store.dir}`);
  try {
    const entries = await store.releases();
    // A corrupted `current` must not hide the history that tells which tag to roll back to.
    const { pointer: current, corrupt } = await store.currentOrProblem();
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify({ current: current ?? null, releases: entries.map((e) => ({ ...e, current: e.deployment === current?.deployment })) }, null, 2)}\n`);
    } else if (entries.length === 0) {
      process.stdout.write(`no releases in ${store.dir}\n`);
    } else {
      process.stdout.write(table(entries, current?.deployment));
    }
    return corrupt ? fail('releases', corrupt.message) : 0;
  } catch (error) {
    if (error instanceof StoreError) return fail('releases', error.message);
    throw error;
  }
}

function table(entries: ReleaseEntry[], current: number | undefined): string {
  const rows = [
    ['', '#', 'TAG', 'COMMIT', 'BUNDLE', 'TIME', 'KIND'],
    ...entries.map((e) => [
      e.deployment === current ? '*' : '',
      String(e.deployment),
      e.tag,
      short(e.commit),
      e.bundleId.slice(0, 12),
      e.time,
      e.kind === 'rollback' && e.rollbackOf !== undefined ? `rollback (to #${e.rollbackOf})` : e.kind,
    ]),
  ];
  const widths = rows[0].map((_, i) => rows.reduce((widest, r) => Math.max(widest, r[i].length), 0));
  return rows.map((r) => r.map((cell, i) => (i === 1 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}
