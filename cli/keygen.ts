/**
 * `sluice keygen [--plan KEY]`: a new random API key (32 bytes, base64url) and its SHA-256, with a
 * subscription file ready to paste. Only the hash goes into git; the key is shown once, here.
 *
 * `sluice keygen --signing --out FILE | --print-private`: a bundle signing key pair instead
 * (signing-keygen.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import { parseArgs, UsageError } from './args.ts';
import { fail } from './report.ts';
import { PLAN_KEY } from '../compiler/layout.ts';
import { packagePathFrom } from './init-files.ts';

/** Where the printed subscription goes, relative to the project root. */
const SNIPPET_FILE = 'apis/<api>/subscriptions/<application>.json';

/**
 * A new key and its hash (what api-key subscriptions hold). The key is 32 random bytes, base64url,
 * and never starts with "-" or "_" (a key like "-abc" reads as an option on command lines).
 */
export function generateApiKey(): { key: string; hash: string } {
  let key: string;
  do key = randomBytes(32).toString('base64url');
  while (!/^[A-Za-z0-9]/.test(key));
  return { key, hash: createHash('sha256').update(key).digest('hex') };
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('--signing')) return (await import('./signing-keygen.ts')).run(args);
  let plan = 'PLAN';
  try {
    const { positionals, flags } = parseArgs(args, ['--plan']);
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    plan = flags.get('--plan') ?? plan;
    if (flags.has('--plan') && !PLAN_KEY.test(plan)) throw new UsageError(`--plan must be a plan key (lowercase letters, digits, dashes), got "${plan}"`);
  } catch (error) {
    if (error instanceof UsageError) return fail('keygen', `${error.message}\nusage: sluice keygen [--plan KEY]\n       sluice keygen --signing --out FILE | --print-private`);
    throw error;
  }
  const { key, hash } = generateApiKey();
  const snippet = {
    // Where the snippet is meant to go, from the folder this runs in (the project root).
    $schema: packagePathFrom('schemas/subscription.schema.json', SNIPPET_FILE, process.cwd()),
    plan,
    status: 'accepted',
    apiKeys: [{ hash, description: `created ${new Date().toISOString().slice(0, 10)}` }],
  };
  process.stdout.write(
    [
      `key:    ${key}`,
      `sha256: ${hash}`,
      '',
      'Give the key to the application (header X-Api-Key); it is not stored anywhere and cannot be shown again.',
      `Commit only the hash, e.g. as ${SNIPPET_FILE}:`,
      '',
      JSON.stringify(snippet, null, 2),
      '',
    ].join('\n'),
  );
  return 0;
}
