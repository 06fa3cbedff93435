/**
 * Bundle stage: the validated APIs (defaults filled, `$schema` stripped, context paths normalised)
 * as one content-addressed object, serialised as canonical JSON and written atomically.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import type { Api, Bundle, BundleApi, BundleSource, Plan, Subscription } from '../schemas/types.ts';
import type { ApiModel } from './check.ts';
import { normaliseContextPath } from './check/context-paths.ts';
import { bundleId, canonicalJson, contentAddresses } from '../core/canonical-json.ts';
import { packageVersion } from '../core/package-root.ts';
import { SIGNATURE_SUFFIX } from '../core/signature.ts';
import { readBoundedBytes, removeStaleTemps, writeAtomic } from '../core/store-io.ts';

export { bundleId, canonicalJson } from '../core/canonical-json.ts';

export const FORMAT_VERSION = 1 as const;
export const COMPILER_VERSION: string = packageVersion();

/** The bundle's view of validated API folders. Call only on a tree without errors. */
export function toBundleApis(models: readonly ApiModel[]): Record<string, BundleApi> {
  const apis: Record<string, BundleApi> = {};
  for (const model of [...models].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (!model.api) continue;
    const { $schema: _ignored, ...definition } = model.api.value;
    const plans: Record<string, Plan> = {};
    for (const key of [...model.plans.keys()].sort()) plans[key] = withoutSchema(model.plans.get(key)!.value);
    const subscriptions: Record<string, Subscription> = {};
    for (const name of [...model.subscriptions.keys()].sort()) subscriptions[name] = withoutSchema(model.subscriptions.get(name)!.value);
    apis[model.id] = {
      id: model.id,
      definition: { ...definition, contextPaths: definition.contextPaths.map(normaliseContextPath) as Api['contextPaths'] },
      plans,
      subscriptions,
    };
  }
  return apis;
}

function withoutSchema<T extends { $schema?: string }>(value: T): T {
  const { $schema: _ignored, ...rest } = value;
  return rest as T;
}

/**
 * A complete bundle: the id is computed from the content; createdAt and source do not change it.
 * `fingerprints` (each API's, computed in the same pass as the id, not part of it) let a runtime
 * tell what a deploy changed without re-serialising the APIs.
 */
export function makeBundle(apis: Record<string, BundleApi>, source: BundleSource, createdAt = new Date(), environment?: string): Bundle {
  const { id, fingerprints } = contentAddresses({ formatVersion: FORMAT_VERSION, apis, ...(environment === undefined ? {} : { environment }) });
  return { formatVersion: FORMAT_VERSION, id, createdAt: createdAt.toISOString(), source, apis, ...(environment === undefined ? {} : { environment }), fingerprints };
}

/** writeBundle's temp files: `.<id>.<pid>.<12 hex>.tmp` (the pid is group 1). */
const BUNDLE_TEMP = /^\.[0-9a-f]{64}\.(\d+)\.[0-9a-f]{12}\.tmp$/;
const MAX_EXISTING_BYTES = 128 * 1024 * 1024;

/**
 * Write `dir/<bundle.id>.json` (canonical JSON and a newline) through a temporary file and a
 * rename, so no reader ever sees half a bundle. Creates `dir`, and first removes the temp files a
 * killed compile left there (only this function's temp names, only when their writer is dead or
 * they were untouched for a minute). Returns the file's path.
 *
 * `sign` (compile --sign-key): the signature of the file's exact bytes is written to
 * `<file>.sig` first, then the file. A file of the same id already there is kept byte for byte
 * (its time refreshed, so it is the newest) and signed: a runtime never sees a new signature
 * beside other bytes.
 */
export async function writeBundle(dir: string, bundle: Bundle, options: { sign?: (bytes: Uint8Array) => string } = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  await removeStaleTemps(dir, BUNDLE_TEMP);
  const target = join(dir, `${bundle.id}.json`);
  const text = `${canonicalJson(bundle)}\n`;
  if (options.sign) {
    const existing = await sameBundleBytes(target, bundle.id);
    await writeAtomic(`${target}${SIGNATURE_SUFFIX}`, options.sign(existing ?? Buffer.from(text)));
    if (existing) {
      const now = new Date();
      await utimes(target, now, now);
      return target;
    }
  }
  const temporary = join(dir, `.${bundle.id}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return target;
}

/** The bytes of `file` when it holds a bundle of this id, else undefined. */
async function sameBundleBytes(file: string, id: string): Promise<Uint8Array | undefined> {
  try {
    const bytes = await readBoundedBytes(file, MAX_EXISTING_BYTES, 'store-bundle-corrupt');
    if (!bytes) return undefined;
    const parsed = JSON.parse(bytes.toString('utf8')) as Bundle;
    return parsed?.id === id && bundleId(parsed) === id ? bytes : undefined;
  } catch {
    return undefined;
  }
}
