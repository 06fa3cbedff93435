/**
 * Branches of a command implemented in a module that may not be in this build yet (e.g.
 * `compile --ref` in compile-ref.ts, `validate --against` in validate-against.ts, owned by the
 * GitOps side): run the module's `run(args)` when present, otherwise say so and exit 2.
 */
export async function loadOptional(label: string, moduleName: string, load: () => Promise<unknown>, args: string[]): Promise<number> {
  let module: { run?: (args: string[]) => Promise<number> };
  try {
    module = (await load()) as typeof module;
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(moduleName);
    if (!missing) throw error;
    module = {};
  }
  if (typeof module.run !== 'function') {
    process.stderr.write(`sluice ${label}: not yet available in this build\n`);
    return 2;
  }
  return module.run(args);
}
