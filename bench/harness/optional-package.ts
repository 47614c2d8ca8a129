/**
 * The benchmarks' optional packages (devDependencies: a clone of the repository has them, an
 * installed memspace does not), imported where they are used.
 */

/** The package's module, or null when it is not installed (any other failure to load it throws). */
export async function importOptional<Module>(name: string): Promise<Module | null> {
  try {
    return (await import(name)) as Module;
  } catch (error) {
    // Only the package itself missing: a missing package it depends on is a broken install.
    const missing = (error as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND" && (error as Error).message.includes(`'${name}'`);
    if (missing) return null;
    throw error;
  }
}
