/**
 * `sluice` command dispatcher. Each command is one module exporting
 * `run(args: string[]): Promise<number>` (the exit code: 0 ok, 1 problems found, 2 usage error).
 */
import { packageVersion } from '../core/package-root.ts';

type Command = { summary: string; load: () => Promise<{ run(args: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  validate: { summary: 'validate [APIS_DIR] [--format human|json|github] [--profile production] [--env ENV] [--against REF [--repo PATH] [--store DIR]]', load: () => import('./validate.ts') },
  compile: {
    summary: 'compile [APIS_DIR] --out DIR [--format human|json|github] [--profile production] [--sign-key FILE|env:NAME] [--env ENV]\n  sluice compile --ref REF [--repo PATH] [--apis-dir apis] --store DIR [--release-tags GLOB] [--sign-key FILE|env:NAME] [--env ENV]',
    load: () => import('./compile.ts'),
  },
  keygen: {
    summary: 'keygen [--plan KEY]           print a new API key and the hash for a subscription\n  sluice keygen --signing --out FILE | --print-private   a bundle signing key pair (Ed25519)',
    load: () => import('./keygen.ts'),
  },
  diff: { summary: 'diff REF_A REF_B [--repo PATH] [--apis-dir apis] [--store DIR] [--env ENV] [--format human|markdown|json]', load: () => import('./diff.ts') },
  releases: { summary: 'releases --store DIR [--format human|json]   list the release history', load: () => import('./releases.ts') },
  rollback: { summary: 'rollback TAG --store DIR [--format human|json]   re-point current to an earlier release', load: () => import('./rollback.ts') },
  serve: {
    summary:
      'serve --bundle FILE | --bundles DIR | --store DIR|URL [--trust-key PUB[,PUB]] [--port 8082] [--admin-port 18082] [--host 127.0.0.1]\n  [--admin-host 127.0.0.1] [--tls-cert PEM --tls-key PEM] [--log-level info] [--redis URL [--redis-key-prefix P]]\n  [--rate-limit-error-strategy allow|deny] [--webhook-allowed-hosts H1,H2] [--auth-failure-limit N/SECONDS|0] [--trusted-proxies CIDR,...]\n  [--log-format json|pretty] [--drain-delay 5] [--store-token-file FILE] [--redis-password-file FILE]\n  [--catalog-path /catalog] [--tags edge,internal]   (each also SLUICE_<OPTION>)',
    load: () => import('./serve.ts'),
  },
  dev: { summary: 'dev [APIS_DIR] [--env ENV] [serve options]   compile on every save and serve (what `npm start` runs)', load: () => import('./dev.ts') },
  init: { summary: 'init [DIR]   scaffold a repository of API definitions (apis/, package.json, CI workflow) in DIR (default .)', load: () => import('./init.ts') },
  asyncapi: { summary: 'asyncapi [APIS_DIR] --out DIR [--server-url http://localhost:8082]   one AsyncAPI 3.0 document per API', load: () => import('./asyncapi.ts') },
  import: { summary: 'import gravitee EXPORT.json [--out apis] [--strict]   convert a Gravitee APIM v4 message API export', load: () => import('./import.ts') },
  catalog: { summary: "catalog [APIS_DIR] --out DIR [--gateway-url URL]   the developer catalog as a static site (public published APIs)", load: () => import('./catalog.ts') },
  subscriptions: { summary: 'subscriptions list [--admin URL] [--json] | subscriptions resume NAME [--api API] [--admin URL]', load: () => import('./subscriptions.ts') },
};

export function usage(): string {
  return [
    'usage: sluice <command> [options]',
    '',
    ...Object.values(commands).map((c) => `  sluice ${c.summary.replace(/\n  (?!sluice)/g, '\n         ')}`),
    '  sluice --version | -V        print the version',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  // `sluice validate | head`: a reader that stops reading is not an error of ours.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') throw error;
      process.exit(process.exitCode ?? 0);
    });
  }
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V') {
    console.log(packageVersion());
    return 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`sluice: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  const end = args.indexOf('--');
  if ((end < 0 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h')) {
    console.log(`usage: sluice ${command.summary.replace(/\n  /g, '\n       ')}\n\nEvery option and example: docs/reference/cli.md in the Sluice repository.`);
    return 0;
  }
  let module: { run(args: string[]): Promise<number> };
  try {
    module = await command.load();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
      console.error(`sluice ${name}: not yet available in this build (${(error as Error).message.split('\n')[0]}).`);
      return 2;
    }
    throw error;
  }
  try {
    return await module.run(args);
  } catch (error) {
    // Commands report the problems they expect; anything else is still a message, not a stack.
    const detail = process.env.SLUICE_DEBUG ? (error as Error).stack : `${(error as Error).message} (SLUICE_DEBUG=1 shows the stack)`;
    console.error(`sluice ${name}: unexpected error: ${detail}`);
    return 2;
  }
}
