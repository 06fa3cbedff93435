/**
 * `sluice init [DIR]`: scaffold a repository of API definitions in DIR (default: the current
 * folder): the quickstart API under apis/, a package.json with sluice as a dev dependency and
 * `validate` / `compile` scripts, a .gitignore, a GitHub Actions workflow and a README.
 * Never overwrites: when any of those files exists, nothing is written and the command exits 2.
 */
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseArgs, UsageError } from './args.ts';
import { scaffold } from './init-files.ts';
import { fail } from './report.ts';

const USAGE = 'usage: sluice init [DIR]';

export async function run(args: string[]): Promise<number> {
  let shown: string;
  try {
    const { positionals } = parseArgs(args, []);
    if (positionals.length > 1) throw new UsageError(`unexpected argument ${positionals[1]} (one folder at most)`);
    shown = positionals[0] ?? '.';
  } catch (error) {
    if (error instanceof UsageError) return fail('init', `${error.message}\n${USAGE}`);
    throw error;
  }
  const dir = resolve(shown);
  if (existsSync(dir) && !statSync(dir).isDirectory()) return fail('init', `${shown} exists and is not a folder; name a new or existing folder`);

  const files = scaffold(dir);
  const taken = [...files.keys()].filter((path) => existsSync(join(dir, path)));
  if (taken.length > 0) {
    return fail(
      'init',
      `${shown} already has ${taken.map((path) => join(shown, path)).join(', ')}; nothing was written.\n` +
        'Move those files away, or run `sluice init NEW_FOLDER` and copy what you need.',
    );
  }
  for (const [path, content] of files) {
    const file = join(dir, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content, { flag: 'wx' });
  }
  process.stdout.write(
    [
      `Wrote ${files.size} files to ${shown}:`,
      ...[...files.keys()].map((path) => `  ${path}`),
      '',
      'Next:',
      ...(shown === '.' ? [] : [`  cd ${shown}`]),
      '  git init && npm install          # sluice is a dev dependency',
      '  npm run validate                 # check apis/',
      '  npm start                        # serve apis/ on http://127.0.0.1:8082',
      '',
    ].join('\n'),
  );
  return 0;
}
