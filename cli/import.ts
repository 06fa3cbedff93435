/**
 * `sluice import gravitee EXPORT.json [--out apis] [--strict]`
 * Converts a Gravitee APIM v4 message API export into an API folder OUT/<api-id>/ (api.json,
 * plans/*.json; compiler/import/gravitee/), then validates it with the compiler. Every setting that
 * could not be carried over is printed as `warning CODE $.json.path: message`.
 * Exit 0 written (warnings or not); 1 with --strict and any warning (nothing written), or the
 * written folder does not validate; 2 usage error, unreadable export, not a v4 message API, or OUT/<api-id> already exists
 * (never overwritten).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { compileFolder } from '../compiler/compile.ts';
import { formatDiagnostics } from '../compiler/format.ts';
import { convertGravitee } from '../compiler/import/gravitee/convert.ts';
import { parseArgs, UsageError } from './args.ts';
import { fail } from './report.ts';

const USAGE = 'usage: sluice import gravitee EXPORT.json [--out apis] [--strict]';
const MAX_EXPORT_BYTES = 16 * 1024 * 1024;

export async function run(args: string[]): Promise<number> {
  let file: string;
  let out: string;
  let strict: boolean;
  try {
    const { positionals, flags } = parseArgs(args, ['--out'], ['--strict']);
    const [source, path, ...rest] = positionals;
    if (source !== 'gravitee') throw new UsageError(source ? `unknown source "${source}" (only "gravitee" is supported)` : 'name the source: sluice import gravitee EXPORT.json');
    if (!path) throw new UsageError('EXPORT.json is required');
    if (rest.length) throw new UsageError(`one EXPORT.json at a time (got ${positionals.slice(1).join(' ')})`);
    file = path;
    out = flags.get('--out') ?? 'apis';
    strict = flags.has('--strict');
  } catch (error) {
    if (error instanceof UsageError) return fail('import', `${error.message}\n${USAGE}`);
    throw error;
  }

  let document: unknown;
  try {
    if ((await stat(file)).size > MAX_EXPORT_BYTES) return fail('import', `${file} is larger than 16 MiB; not a single API export`);
    const text = await readFile(file);
    document = JSON.parse(text.toString('utf8'));
  } catch (error) {
    return fail('import', `cannot read ${file}: ${(error as Error).message}`);
  }
  const result = convertGravitee(document);
  if (!result.ok) return fail('import', `${file}: ${result.error}`);

  for (const warning of result.warnings) process.stdout.write(`warning ${warning.code} ${warning.path}: ${warning.message}\n`);
  const count = `${result.warnings.length} setting${result.warnings.length === 1 ? '' : 's'} not carried over`;
  if (strict && result.warnings.length) {
    process.stdout.write(`--strict: ${count}; nothing written\n`);
    return 1;
  }
  const target = join(out, result.id);
  if (existsSync(target)) return fail('import', `${target} already exists: nothing written (move it away or import into another --out folder)`);
  // Written beside the target under a temporary name, then renamed: a failed import leaves nothing.
  const staging = join(out, `.${result.id}.import-${process.pid}`);
  try {
    for (const [name, content] of Object.entries(result.files)) {
      await mkdir(dirname(join(staging, name)), { recursive: true });
      await writeFile(join(staging, name), `${JSON.stringify(content, null, 2)}\n`);
    }
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    return fail('import', `cannot write ${target}: ${(error as Error).message}`);
  }

  const plans = Object.keys(result.files).length - 1;
  process.stdout.write(`wrote ${target} (api.json, ${plans} plan${plans === 1 ? '' : 's'}); ${count}\n`);

  // The folder alone must validate (other APIs of OUT may clash on context paths: `sluice validate OUT` shows that).
  const check = await compileFolder(out).catch(() => undefined);
  const own = check?.diagnostics.filter((d) => d.file.split(/[/\\]/)[0] === result.id) ?? [];
  if (own.length) {
    process.stdout.write(`${formatDiagnostics(own, 'human', { root: out })}\n${target} does not validate yet: fix the problems above, then run sluice validate ${out}\n`);
    return 1;
  }
  return 0;
}
