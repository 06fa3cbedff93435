/**
 * `sluice keygen --signing --out FILE | --print-private`: a new Ed25519 key pair for signing
 * bundles (compile --sign-key) and trusting them (serve --trust-key).
 *
 * --out FILE: the private key (PKCS#8 PEM) is written to FILE with mode 0600 and the public key
 * to FILE.pub; neither may exist already. --print-private: the private PEM goes to stdout instead
 * (for a secret manager), nothing is written. Either way the public key is printed in its compact
 * form (base64 SPKI DER, what --trust-key takes inline), with its key id.
 */
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { keyId, publicKeyText } from '../core/signature.ts';
import { parseArgs, UsageError } from './args.ts';
import { fail } from './report.ts';

const USAGE = 'usage: sluice keygen --signing --out FILE | --print-private';

export async function run(args: string[]): Promise<number> {
  let out: string | undefined;
  let print = false;
  try {
    const { positionals, flags } = parseArgs(args, ['--out'], ['--signing', '--print-private']);
    if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
    out = flags.get('--out');
    print = flags.has('--print-private');
    if (!out === !print) throw new UsageError('give one of --out FILE (write the private key there, mode 0600) or --print-private (print it)');
  } catch (error) {
    if (error instanceof UsageError) return fail('keygen', `${error.message}\n${USAGE}`);
    throw error;
  }
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const compact = publicKeyText(publicKey);
  if (out) {
    try {
      // 'wx': never overwrite a key (it may sign what production trusts).
      writeFileSync(out, privatePem, { flag: 'wx', mode: 0o600 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return fail('keygen', code === 'EEXIST' ? `${out} exists already; not overwriting a key (choose another --out)` : `cannot write ${out}: ${code ?? (error as Error).message}`);
    }
    try {
      writeFileSync(`${out}.pub`, `${compact}\n`, { flag: 'wx', mode: 0o644 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      process.stderr.write(`sluice keygen: ${out}.pub not written (${code === 'EEXIST' ? 'it exists already' : code}); the public key is printed below\n`);
    }
  }
  const lines = [
    `public key: ${compact}`,
    `key id:     ${keyId(publicKey)}`,
    '',
    out
      ? `Private key written to ${out} (mode 0600; public key in ${out}.pub). Keep it secret: whoever holds it can sign bundles your runtimes trust.`
      : 'Private key (PEM) below: store it as a secret (e.g. SLUICE_SIGN_KEY); it is not kept anywhere.',
    `Sign:  sluice compile ... --sign-key ${out ?? 'env:SLUICE_SIGN_KEY'}`,
    `Trust: sluice serve ... --trust-key ${compact}`,
    '',
  ];
  if (print) lines.push(privatePem.trimEnd(), '');
  process.stdout.write(lines.join('\n'));
  return 0;
}
