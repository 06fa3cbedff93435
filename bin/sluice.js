#!/usr/bin/env node
// The `sluice` command: runs the JavaScript build, dist/cli/main.js (`npm run build`; `npm ci` and
// `npm pack` build it through the `prepare` script). In a checkout of sluice, SLUICE_FROM_SOURCES=1
// runs the TypeScript sources through tsx instead (a dev dependency): what the test suite does.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'cli', 'main.js');
// Only a checkout has the sources: the package ships dist/ alone.
const checkout = existsSync(join(root, 'cli', 'main.ts'));
const SOURCE_DIRS = ['core', 'compiler', 'runtime', 'cli'];

function fail(message) {
  console.error(`sluice: ${message}`);
  process.exit(2);
}

/** The first source file changed after the build was written, if any (a checkout only). */
function newerSource(builtAt) {
  const pending = SOURCE_DIRS.map((dir) => join(root, dir)).filter((dir) => existsSync(dir));
  while (pending.length > 0) {
    const dir = pending.pop();
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) pending.push(path);
      else if (entry.name.endsWith('.ts') && statSync(path).mtimeMs > builtAt) return relative(root, path);
    }
  }
  return undefined;
}

async function load() {
  if (process.env.SLUICE_FROM_SOURCES === '1') {
    if (!checkout) fail(`SLUICE_FROM_SOURCES=1 runs the TypeScript sources of a checkout, and ${root} has only the build (dist/): unset SLUICE_FROM_SOURCES.`);
    try {
      const { register } = await import('tsx/esm/api');
      register();
    } catch (error) {
      if (error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
      fail('SLUICE_FROM_SOURCES=1 needs tsx, a dev dependency: run `npm ci` (without --omit=dev), or unset SLUICE_FROM_SOURCES to run dist/.');
    }
    return import('../cli/main.ts');
  }
  if (!existsSync(built)) {
    fail(
      checkout
        ? `${relative(process.cwd(), built) || built} is missing: this checkout is not built. Run \`npm run build\` (\`npm ci\` builds it too), or set SLUICE_FROM_SOURCES=1 to run the TypeScript sources through tsx.`
        : `${built} is missing: this sluice install is incomplete; reinstall the package.`,
    );
  }
  if (checkout) {
    const changed = newerSource(statSync(built).mtimeMs);
    if (changed) fail(`dist/ is older than ${changed}: run \`npm run build\`, or set SLUICE_FROM_SOURCES=1 to run the TypeScript sources through tsx.`);
  }
  return import('../dist/cli/main.js');
}

const { main } = await load();
process.exitCode = await main(process.argv.slice(2));
