/** A bench's scratch folder (traces, ops files, native builds), removed when the bench is done with it. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Runs `use` on a new temporary folder `memspace-NAME-XXXXXX`, and removes it after (after the promise settles, for an async `use`). */
export function withScratchFolder<T>(name: string, use: (folder: string) => T): T {
  const folder = mkdtempSync(join(tmpdir(), `memspace-${name}-`));
  const remove = (): void => rmSync(folder, { recursive: true, force: true });
  let result: T;
  try {
    result = use(folder);
  } catch (error) {
    remove();
    throw error;
  }
  if (result instanceof Promise) return result.finally(remove) as T;
  remove();
  return result;
}
