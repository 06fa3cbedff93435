/**
 * The compiler, top to bottom: read (layout + parse) -> validate -> check -> bundle.
 * Every stage reports all it finds; a bundle is produced only when nothing was reported.
 */
import type { Api, Bundle, BundleSource, Plan, Subscription } from '../schemas/types.ts';
import { check, checkRelease, type ApiModel, type ReleaseRules } from './check.ts';
import { capPerCode, diagnosticForFile, pointerToken, pushAll, type Diagnostic, type OmittedCounts } from './diagnostic.ts';
import { layoutTree } from './layout.ts';
import { patchedDocument, readOverlay, requireEnvironment, splitEnvironments, type Overlay } from './environment.ts';
import { COMPILER_VERSION, makeBundle, toBundleApis } from './bundle.ts';
import { readFolder } from './folder.ts';
import { MAX_FILE_BYTES, parseJson, type ParsedFile, type SourceFile } from './source.ts';
import { validateDocument, type DocumentKind } from './validate.ts';

export interface CompileOptions {
  /** 'production' refuses keyless plans (KEYLESS_IN_PRODUCTION). */
  profile?: 'production';
  /** Recorded in the bundle; does not change its id. */
  source: BundleSource;
  /** The previous release, for release rules (used only together with `releaseRules`). */
  previous?: Bundle;
  releaseRules?: ReleaseRules;
  /** createdAt of the bundle (default: now). */
  now?: Date;
  /**
   * The overlay `environments/<name>.json` to apply (absent: none). Recorded in the bundle and part
   * of its id. A name without an overlay file is the diagnostic ENV_NOT_FOUND.
   */
  environment?: string;
}

export interface CompileResult {
  /** Present only when `diagnostics` is empty. */
  bundle?: Bundle;
  /** Sorted by file, line, column; at most MAX_DIAGNOSTICS_PER_CODE of each code. */
  diagnostics: Diagnostic[];
  /** Diagnostics found but not listed, by code (absent when none were left out). */
  omitted?: OmittedCounts;
}

/** Compile an in-memory tree (from a folder or a git commit). Never throws on bad input. */
export function compileTree(files: readonly SourceFile[], options: CompileOptions): CompileResult {
  // 1. read: the tree's shape, then each file's JSON (overlays under environments/ split off first)
  const split = splitEnvironments(files);
  const { folders, diagnostics } = layoutTree(split.files);
  pushAll(diagnostics, split.diagnostics);
  const parsed: ParsedFile[] = [];
  const parse = (file: SourceFile): ParsedFile | undefined => {
    if (file.unreadable !== undefined) {
      diagnostics.push(diagnosticForFile(file.path, file.code ?? 'UNREADABLE_FILE', `${file.path} ${file.unreadable}`));
      return undefined;
    }
    if (file.text.length > MAX_FILE_BYTES || (file.text.length > MAX_FILE_BYTES / 4 && Buffer.byteLength(file.text) > MAX_FILE_BYTES)) {
      diagnostics.push(diagnosticForFile(file.path, 'FILE_TOO_LARGE', `${file.path} is larger than ${MAX_FILE_BYTES} bytes`));
      return undefined;
    }
    const result = parseJson(file.path, file.text);
    if (!result.ok) {
      for (const problem of [result, ...(result.more ?? [])]) diagnostics.push({ file: file.path, ...problem.position, pointer: '', code: problem.code, message: problem.message });
      return undefined;
    }
    parsed.push(result.file);
    return result.file;
  };

  // 2. validate: each document against the schema of its kind (fills defaults)
  // An overlay's patch (when --env names one) is applied between parse and validate.
  const overlay = options.environment === undefined ? undefined : loadOverlay(options.environment, split.environments.get(options.environment), folders, parse, diagnostics);
  const valid = <T>(file: SourceFile | undefined, kind: DocumentKind, onParsed?: (document: ParsedFile) => void, patch?: { value: Record<string, unknown>; at: string }) => {
    let document = file && parse(file);
    if (!document) return undefined;
    let relocate = (d: Diagnostic) => d;
    if (patch && overlay) ({ document, relocate } = patchedDocument(document, patch.value, overlay.file, patch.at));
    onParsed?.(document);
    const problems = validateDocument(document, kind).map(relocate);
    pushAll(diagnostics, problems);
    return problems.length ? undefined : { file: document, value: document.value as T };
  };
  const patchOf = (id: string, plan?: string) => {
    const api = overlay?.apis.get(id);
    const value = plan === undefined ? api?.api : api?.plans.get(plan);
    return value && { value, at: `/apis/${pointerToken(id)}${plan === undefined ? '' : `/plans/${pointerToken(plan)}`}` };
  };
  const models: ApiModel[] = [];
  for (const folder of folders.values()) {
    const model: ApiModel = { id: folder.id, plans: new Map(), subscriptions: new Map(), brokenPlans: new Set() };
    model.api = valid<Api>(folder.api, 'api', (document) => (model.parsedApi = document), patchOf(folder.id));
    for (const [key, file] of folder.plans) {
      const plan = valid<Plan>(file, 'plan', undefined, patchOf(folder.id, key));
      if (plan) model.plans.set(key, plan);
      else model.brokenPlans.add(key);
    }
    for (const [name, file] of folder.subscriptions) {
      const subscription = valid<Subscription>(file, 'subscription');
      if (subscription) model.subscriptions.set(name, subscription);
    }
    models.push(model);
  }

  // 3. check: cross-file rules (and the inline-secret scan of every parsed file)
  const { diagnostics: checked, omitted } = check(models, parsed, { profile: options.profile, previous: options.previous });
  const secretAt = new Set(checked.filter((d) => d.code === 'INLINE_SECRET').map((d) => `${d.file}\0${d.pointer}`));
  const all = diagnostics.filter((d) => !(d.code === 'SCHEMA_SECRET_REF' && secretAt.has(`${d.file}\0${d.pointer}`)));
  pushAll(all, checked);
  if (all.length) return capped(all, omitted);

  // 3b. release rules: a clean tree against the previous release
  const apis = toBundleApis(models);
  if (options.previous && options.releaseRules) {
    const release = checkRelease(apis, parsed, options.previous, options.releaseRules);
    if (release.length) return capped(release);
  }

  // 4. bundle
  return { bundle: makeBundle(apis, options.source, options.now, options.environment), diagnostics: [] };
}

/** Parse and check the overlay `name` (its problems go to `diagnostics`); undefined when unusable. */
function loadOverlay(
  name: string,
  file: SourceFile | undefined,
  folders: ReturnType<typeof layoutTree>['folders'],
  parse: (file: SourceFile) => ParsedFile | undefined,
  diagnostics: Diagnostic[],
): Overlay | undefined {
  if (!file) {
    diagnostics.push(diagnosticForFile(`environments/${name}.json`, 'ENV_NOT_FOUND', `there is no environment "${name}": add environments/${name}.json to the APIs folder`));
    return undefined;
  }
  const document = parse(file);
  if (!document) return undefined;
  const problems = validateDocument(document, 'environment');
  pushAll(diagnostics, problems);
  if (problems.length) return undefined;
  const { overlay, diagnostics: unknown } = readOverlay(name, document, folders);
  pushAll(diagnostics, unknown);
  return overlay;
}

function capped(all: readonly Diagnostic[], omitted: OmittedCounts = {}): CompileResult {
  const result = capPerCode(all, omitted);
  return Object.keys(result.omitted).length ? result : { diagnostics: result.diagnostics };
}

/** Read a folder and compile it. Rejects only when the folder cannot be read or has no overlay `options.environment` (EnvironmentError). */
export async function compileFolder(dir: string, options: Partial<CompileOptions> = {}): Promise<CompileResult> {
  const files = await readFolder(dir);
  requireEnvironment(files, options.environment, dir);
  return compileTree(files, { ...options, source: options.source ?? { kind: 'folder', path: dir, compilerVersion: COMPILER_VERSION } });
}
