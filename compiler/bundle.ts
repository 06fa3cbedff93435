/**
 * Bundle stage: the validated APIs (defaults filled, `$schema` stripped, context paths normalised)
 * as one content-addressed object, serialised as canonical JSON and written atomically.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Api, Bundle, BundleApi, BundleSource, Plan, Subscription } from '../schemas/types.ts';
import type { ApiModel } from './check.ts';
import { normaliseContextPath } from './check/context-paths.ts';
import { bundleId, canonicalJson } from '../core/canonical-json.ts';

export { bundleId, canonicalJson } from '../core/canonical-json.ts';

export const FORMAT_VERSION = 1 as const;
export const COMPILER_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

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

/** A complete bundle: the id is computed from the content; createdAt and source do not change it. */
export function makeBundle(apis: Record<string, BundleApi>, source: BundleSource, createdAt = new Date()): Bundle {
  const id = bundleId({ formatVersion: FORMAT_VERSION, apis });
  return { formatVersion: FORMAT_VERSION, id, createdAt: createdAt.toISOString(), source, apis };
}

/**
 * Write `dir/<bundle.id>.json` (canonical JSON and a newline) through a temporary file and a
 * rename, so no reader ever sees half a bundle. Creates `dir`. Returns the file's path.
 */
export async function writeBundle(dir: string, bundle: Bundle): Promise<string> {
  await mkdir(dir, { recursive: true });
  const target = join(dir, `${bundle.id}.json`);
  const temporary = join(dir, `.${bundle.id}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(`${canonicalJson(bundle)}\n`);
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
