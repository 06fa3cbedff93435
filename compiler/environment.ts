/**
 * Environment overlays: `environments/<env>.json` at the top of the APIs folder (the name
 * `environments` is reserved: it is never an API folder). An overlay holds, by API id, a JSON merge
 * patch (RFC 7386) of that API's api.json, and under `plans` the patches of its plans by key. The
 * compiler applies the overlay named by `--env` before validation, so the patched documents pass
 * the normal schemas; a diagnostic about a value the overlay set is reported at the overlay's own
 * line and column, any other at the API's file.
 */
import { diagnosticAt, diagnosticForFile, pointerToken, type Diagnostic } from './diagnostic.ts';
import type { ApiFolder } from './layout.ts';
import type { ParsedFile, SourceFile } from './source.ts';

/** The folder of overlays, at the top of the APIs folder. */
export const ENVIRONMENTS_DIR = 'environments';
/** Environment names: the overlay's file name without `.json` (also a release tag prefix, `prod/v1.4`). */
export const ENVIRONMENT_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

type JsonObject = Record<string, unknown>;
const isObject = (value: unknown): value is JsonObject => value !== null && typeof value === 'object' && !Array.isArray(value);

/** An overlay that parsed and passed its schema: `apis` by id, `plans` split off each API's patch. */
export interface Overlay {
  readonly name: string;
  readonly file: ParsedFile;
  /** By API id: the patch of api.json (without `plans`) and the patches of its plans by key. */
  readonly apis: ReadonlyMap<string, { api: JsonObject; plans: ReadonlyMap<string, JsonObject> }>;
}

/**
 * Split a tree into the API files and the overlays. Under `environments/` only `<env>.json` files
 * (and Markdown) belong; anything else is reported as UNKNOWN_FILE.
 */
export function splitEnvironments(files: readonly SourceFile[]): { files: SourceFile[]; environments: Map<string, SourceFile>; diagnostics: Diagnostic[] } {
  const rest: SourceFile[] = [];
  const environments = new Map<string, SourceFile>();
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const parts = file.path.split('/').filter((part) => part !== '');
    if (parts[0] !== ENVIRONMENTS_DIR || parts.length < 2) {
      rest.push(file);
      continue;
    }
    const path = parts.join('/');
    if (parts.length === 2 && /\.md$/i.test(path)) continue;
    const name = parts.length === 2 && parts[1].endsWith('.json') ? parts[1].slice(0, -'.json'.length) : undefined;
    if (name !== undefined && ENVIRONMENT_NAME.test(name)) environments.set(name, path === file.path ? file : { ...file, path });
    else {
      const why = name === undefined ? `${ENVIRONMENTS_DIR}/ holds only <env>.json overlay files, no sub-folders` : `"${name}" is not a valid environment name: use lowercase letters, digits and dashes (e.g. environments/prod.json)`;
      diagnostics.push(diagnosticForFile(path, 'UNKNOWN_FILE', `unknown file ${path}: ${why}`));
    }
  }
  return { files: rest, environments, diagnostics };
}

/** The environments a tree offers, sorted (for "unknown environment; available: ..."). */
export function environmentNames(files: readonly SourceFile[]): string[] {
  return [...splitEnvironments(files).environments.keys()].sort();
}

/** An environment asked for that the tree has no overlay for (a usage error: exit 2). */
export class EnvironmentError extends Error {
  constructor(name: string, available: readonly string[], where: string) {
    super(`there is no environment "${name}" in ${where} (no ${ENVIRONMENTS_DIR}/${name}.json); ${available.length ? `available: ${available.join(', ')}` : `it has no ${ENVIRONMENTS_DIR}/ overlays`}`);
    this.name = 'EnvironmentError';
  }
}

/** Throw EnvironmentError when `name` is given and the tree has no overlay of that name. */
export function requireEnvironment(files: readonly SourceFile[], name: string | undefined, where: string): void {
  if (name === undefined) return;
  const available = environmentNames(files);
  if (!available.includes(name)) throw new EnvironmentError(name, available, where);
}

/**
 * The environment of a compile of a git ref: `--env` when given; else the prefix of a namespaced
 * tag (`prod/v1.4` -> prod) when the tree has that overlay. A prefix that names no overlay in a tree
 * that has overlays is an EnvironmentError (a misspelt `prdo/v1.4` never compiles without its
 * overlay); in a tree without overlays a tag like `release/1.0` is an ordinary tag.
 */
export function environmentOfRef(files: readonly SourceFile[], given: string | undefined, tag: string | undefined, where: string): string | undefined {
  if (given !== undefined) {
    requireEnvironment(files, given, where);
    return given;
  }
  const slash = tag?.indexOf('/') ?? -1;
  if (!tag || slash <= 0) return undefined;
  const prefix = tag.slice(0, slash);
  const available = environmentNames(files);
  if (available.includes(prefix)) return prefix;
  if (available.length) throw new EnvironmentError(prefix, available, `${where} (from the tag ${tag})`);
  return undefined;
}

/**
 * Check a parsed, schema-valid overlay against the tree: every API it names must exist
 * (ENV_UNKNOWN_API), every plan too (ENV_UNKNOWN_PLAN), both reported at the overlay's key.
 */
export function readOverlay(name: string, file: ParsedFile, folders: ReadonlyMap<string, ApiFolder>): { overlay: Overlay; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const apis = new Map<string, { api: JsonObject; plans: Map<string, JsonObject> }>();
  const given = (file.value as { apis?: Record<string, JsonObject> }).apis ?? {};
  for (const [id, patch] of Object.entries(given)) {
    const at = `/apis/${pointerToken(id)}`;
    const folder = folders.get(id);
    if (!folder?.api) {
      const known = [...folders.keys()].filter((key) => folders.get(key)!.api).sort();
      diagnostics.push(diagnosticAt(file, at, 'ENV_UNKNOWN_API', `environment ${name} patches API "${id}", which does not exist${known.length ? `; APIs: ${known.slice(0, 20).join(', ')}` : ''}`, 'key'));
      continue;
    }
    const { plans: planPatches = {}, ...api } = patch as JsonObject & { plans?: Record<string, JsonObject> };
    const plans = new Map<string, JsonObject>();
    for (const [key, planPatch] of Object.entries(planPatches)) {
      if (!folder.plans.has(key)) {
        const known = [...folder.plans.keys()].sort();
        diagnostics.push(diagnosticAt(file, `${at}/plans/${pointerToken(key)}`, 'ENV_UNKNOWN_PLAN', `environment ${name} patches plan "${key}" of API ${id}, which has no plans/${key}.json${known.length ? `; plans: ${known.join(', ')}` : ''}`, 'key'));
      } else plans.set(key, planPatch);
    }
    apis.set(id, { api, plans });
  }
  return { overlay: { name, file, apis }, diagnostics };
}

/** RFC 7386 JSON merge patch: a new value, `target` untouched. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/**
 * A document with an overlay's patch applied: its value is the patched document; positions are the
 * original file's. `relocate` moves a diagnostic about a value the patch set to the overlay.
 */
export function patchedDocument(document: ParsedFile, patch: JsonObject, overlay: ParsedFile, patchPointer: string): { document: ParsedFile; relocate: (diagnostic: Diagnostic) => Diagnostic } {
  const value = structuredClone(mergePatch(document.value, patch));
  const patched: ParsedFile = { path: document.path, value, locate: (pointer, part) => document.locate(pointer, part) };
  const relocate = (diagnostic: Diagnostic): Diagnostic => {
    const at = setBy(patch, diagnostic.pointer);
    if (at === undefined) return diagnostic;
    const part = at === diagnostic.pointer && diagnostic.code === 'SCHEMA_UNKNOWN_PROPERTY' ? 'key' : 'value';
    const { line, column } = overlay.locate(`${patchPointer}${at}`, part);
    return { ...diagnostic, file: overlay.path, line, column, pointer: `${patchPointer}${at}`, message: `${diagnostic.message} (set by ${overlay.path} for ${document.path})` };
  };
  return { document: patched, relocate };
}

/**
 * The pointer (inside the patch) of the value that set `pointer` of the patched document: the
 * deepest patch member on its path when that member replaces (is not an object) or is the pointer
 * itself; undefined when the patch does not reach it.
 */
function setBy(patch: JsonObject, pointer: string): string | undefined {
  if (pointer === '') return undefined;
  let node: unknown = patch;
  let at = '';
  for (const raw of pointer.slice(1).split('/')) {
    if (!isObject(node)) return at;
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (!Object.hasOwn(node, token)) return undefined;
    node = node[token];
    at += `/${raw}`;
  }
  return at;
}
