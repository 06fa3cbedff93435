/**
 * What `sluice init` writes: a repository of API definitions that depends on the sluice package.
 * The quickstart API is copied from the package's own apis/qs-message-api (shipped for this), its
 * `$schema` paths re-pointed into node_modules/sluice/schemas/ relative to each file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, posix, relative, resolve, sep } from 'node:path';
import { packageRoot, packageVersion } from '../core/package-root.ts';

/** The quickstart API's folder inside the package, and its id in the scaffold. */
export const QUICKSTART_API = 'qs-message-api';

/** Scaffold files: path relative to the target folder (`/` separators) → content. */
export type Scaffold = Map<string, string>;

const toPosix = (path: string): string => path.split(sep).join('/');

/**
 * `inPackage` (a path in the sluice package, e.g. schemas/subscription.schema.json) as seen from
 * `projectFile` (a path relative to a project root, `/` separators): through node_modules/sluice/,
 * where the project has the package installed — or directly when `projectRoot` is the package
 * itself (sluice's own checkout).
 */
export function packagePathFrom(inPackage: string, projectFile: string, projectRoot?: string): string {
  const base = projectRoot !== undefined && resolve(projectRoot) === resolve(packageRoot()) ? inPackage : `node_modules/sluice/${inPackage}`;
  return posix.relative(posix.dirname(projectFile), base);
}

/** A `$schema` value of `file` (in the package) re-pointed from `scaffoldFile` into node_modules/sluice/. */
function schemaPathFor(value: string, packageFile: string, scaffoldFile: string): string {
  const inPackage = toPosix(relative(packageRoot(), join(dirname(packageFile), value)));
  if (!inPackage.startsWith('schemas/')) return value;
  return packagePathFrom(inPackage, scaffoldFile);
}

/** The quickstart API's files as they go into the scaffold (apis/qs-message-api/…). */
function quickstartFiles(): Array<[string, string]> {
  const source = join(packageRoot(), 'apis', QUICKSTART_API);
  const files: Array<[string, string]> = [];
  for (const name of (readdirSync(source, { recursive: true }) as string[]).sort()) {
    if (!name.endsWith('.json')) continue;
    const packageFile = join(source, name);
    const target = `apis/${QUICKSTART_API}/${toPosix(name)}`;
    const text = readFileSync(packageFile, 'utf8').replace(
      /^(\s*"\$schema"\s*:\s*)"([^"]+)"/m,
      (_match, prefix: string, value: string) => `${prefix}${JSON.stringify(schemaPathFor(value, packageFile, target))}`,
    );
    files.push([target, text]);
  }
  if (files.length === 0) throw new Error(`the sluice package has no ${source}; reinstall it`);
  return files;
}

/** An npm package name from a folder name (lowercase letters, digits, `-`, `.`, `_`). */
export function packageNameFor(dir: string): string {
  const name = basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+|-+$/g, '')
    .slice(0, 100);
  return name || 'apis';
}

/** The npm scripts of the scaffold's package.json. */
export const scaffoldScripts = (): Record<string, string> => ({
  validate: 'sluice validate apis --format human',
  compile: 'sluice compile apis --out bundles',
  start: 'sluice dev apis',
});

function packageJson(name: string, version: string): string {
  const manifest = {
    name,
    private: true,
    description: 'API definitions served by Sluice',
    scripts: scaffoldScripts(),
    devDependencies: { sluice: `^${version}` },
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

const GITIGNORE = `node_modules/
# compiled bundles and stores are build output: CI makes them from git
bundles/
store/
.sluice/
`;

/**
 * Pull requests: validate with annotations on the changed lines. Tags `v*`: compile the tag as a
 * release into a store and keep it as a build artifact (publishing the store: docs/ci-workflow.md).
 */
const WORKFLOW = `name: sluice

on:
  pull_request:
  push:
    tags: ['v*']

permissions:
  contents: read

jobs:
  validate:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-node@v4
        with:
          node-version: 20
          cache: npm
      - run: npm ci
      - name: Validate (diagnostics as annotations on the changed files)
        run: npx sluice validate apis --format github

  release:
    if: github.event_name == 'push' && github.ref_type == 'tag'
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-node@v4
        with:
          node-version: 20
          cache: npm
      - run: npm ci
      - name: Compile the tag into the store as a release
        run: npx sluice compile --ref "$GITHUB_REF_NAME" --store store --release-tags 'v*' --format github
      - run: npx sluice releases --store store
      - uses: actions/upload-artifact@v4
        with:
          name: sluice-store-\${{ github.ref_name }}
          path: store/
`;

function readme(name: string): string {
  return `# ${name}

API definitions for [Sluice](https://www.npmjs.com/package/sluice): one folder per API under \`apis/\`.

\`\`\`sh
npm install                # sluice is a dev dependency
npm run validate           # check every definition (editors also check them through "$schema")
npm start                  # serve apis/ on http://127.0.0.1:8082, recompiling on every save
npm run compile            # write a bundle to bundles/ for \`npx sluice serve --bundles bundles\`
\`\`\`

\`curl -i http://127.0.0.1:8082/${QUICKSTART_API}\` answers with "mock message" items once
\`npm start\` runs.

CI (\`.github/workflows/sluice.yml\`): every pull request is validated, with diagnostics as
annotations on the changed lines; every tag \`v*\` is compiled as a release into a store, kept as a
build artifact. To publish the store where runtimes (\`sluice serve --store URL\`) read it, see
Sluice's docs/ci-workflow.md.
`;
}

/** Every file of a scaffold for the folder `dir`. */
export function scaffold(dir: string): Scaffold {
  const version = packageVersion();
  const name = packageNameFor(dir);
  return new Map<string, string>([
    ...quickstartFiles(),
    ['package.json', packageJson(name, version)],
    ['.gitignore', GITIGNORE],
    ['.github/workflows/sluice.yml', WORKFLOW],
    ['README.md', readme(name)],
  ]);
}
