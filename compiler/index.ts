/**
 * The compiler's programmatic API (used by the runtime, dev mode and the GitOps commands).
 *
 *   compileTree(files, { source, profile? })  -> { bundle?, diagnostics }   (bundle only when clean)
 *   compileFolder(dir, options?)              -> Promise<same>
 *   readFolder(dir)                           -> Promise<SourceFile[]>
 *   writeBundle(dir, bundle)                  -> Promise<path of DIR/<id>.json>
 *   canonicalJson(value), bundleId(bundle)    -> verify a bundle: bundleId(b) === b.id
 *   formatDiagnostics(diagnostics, 'human' | 'json' | 'github', { root? })
 */
export { compileTree, compileFolder, type CompileOptions, type CompileResult } from './compile.ts';
export { readFolder } from './folder.ts';
export type { SourceFile } from './source.ts';
export { writeBundle, canonicalJson, bundleId, toBundleApis, makeBundle, COMPILER_VERSION, FORMAT_VERSION } from './bundle.ts';
export { formatDiagnostics, type DiagnosticFormat } from './format.ts';
export { sortDiagnostics, type Diagnostic } from './diagnostic.ts';
export { normaliseContextPath } from './check/context-paths.ts';
export { publishes, subscribes } from './check/endpoints.ts';
export type { ApiModel, ReleaseRules, Located } from './check.ts';
export { CODES } from './codes.ts';
