/**
 * Where the sluice package lives, the same from the TypeScript sources (`core/package-root.ts`,
 * tests and tsx) and from the build (`dist/core/package-root.js`, what an installed package runs):
 * the nearest folder above this file holding a package.json. Files the code reads at run time
 * (schemas/*.json, package.json) are located from it, never relative to a source file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root folder (the one holding package.json and schemas/). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`sluice: no package.json above ${fileURLToPath(import.meta.url)}; reinstall the sluice package`);
    dir = up;
  }
}

/** The `version` of the package's package.json (what `sluice --version` prints and bundles record). */
export function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof manifest.version !== 'string') throw new Error(`sluice: ${join(packageRoot(), 'package.json')} has no "version"`);
  return manifest.version;
}
