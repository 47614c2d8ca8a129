import { closeSync, fstatSync, openSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/**
 * Every file memspace writes goes through here: bytes go to a temporary file beside the
 * target, which is renamed over the target only when the whole output is written. A failed
 * or interrupted command leaves the target as it was, never empty or half-written.
 */

/** The path that means standard input on the command line. */
export const STDIN_PATH = "-";

/** An output that would overwrite one of the command's inputs. */
export class OutputAliasError extends Error {
  /** The refusal to write `outputPath`, which is the same file as the input `inputPath`. */
  constructor(
    /** The output path given. */
    readonly outputPath: string,
    /** The input path it would overwrite. */
    readonly inputPath: string,
  ) {
    super(
      inputPath === STDIN_PATH
        ? `${outputPath}: is also the command's standard input; refusing to overwrite an input`
        : `${outputPath}: is the same file as the input ${inputPath}; refusing to overwrite an input`,
    );
    this.name = "OutputAliasError";
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * Refuses an output that is the same file (device and inode, after following links) as
 * one of `inputPaths`; `-` among them stands for standard input.
 */
export function refuseAliasedOutput(outputPath: string, inputPaths: readonly string[]): void {
  for (const inputPath of inputPaths) {
    // Also for files that do not exist yet: two outputs of one command named alike.
    if (inputPath !== STDIN_PATH && resolve(inputPath) === resolve(outputPath)) throw new OutputAliasError(outputPath, inputPath);
  }
  const output = statOrNull(outputPath);
  if (output === null) return; // a file that does not exist yet is nobody's input
  for (const inputPath of inputPaths) {
    let input: Stats | null;
    if (inputPath === STDIN_PATH) {
      try {
        input = fstatSync(0);
      } catch {
        input = null;
      }
    } else input = statOrNull(inputPath);
    if (input !== null && sameFile(input, output)) throw new OutputAliasError(outputPath, inputPath);
  }
}

let temporaryCount = 0;

/**
 * An output file being written. `fd` is a temporary file in the target's folder (so the
 * rename stays on one file system); `commit` moves it into place, `discard` removes it.
 */
export class OutputFile {
  /** The temporary file the output is written to until `commit`. */
  readonly temporaryPath: string;
  private fdOrClosed: number;

  private constructor(
    readonly path: string,
    fd: number,
    temporaryPath: string,
  ) {
    this.fdOrClosed = fd;
    this.temporaryPath = temporaryPath;
  }

  /** Checks `path` against `inputPaths`, then creates the temporary file beside it. */
  static create(path: string, inputPaths: readonly string[] = []): OutputFile {
    refuseAliasedOutput(path, inputPaths);
    const target = statOrNull(path);
    if (target?.isDirectory()) throw new Error(`${path}: is a directory; give an output file name`);
    const temporaryPath = join(dirname(path), `.${basename(path)}.${process.pid}.${temporaryCount++}.tmp`);
    let fd: number;
    try {
      fd = openSync(temporaryPath, "wx");
    } catch (error) {
      throw new Error(`${path}: cannot create the output (${(error as NodeJS.ErrnoException).code ?? (error as Error).message} in ${dirname(path)})`);
    }
    return new OutputFile(path, fd, temporaryPath);
  }

  /** The temporary file's descriptor; throws an Error once the output is committed or discarded. */
  get fd(): number {
    if (this.fdOrClosed < 0) throw new Error(`${this.path}: output already closed`);
    return this.fdOrClosed;
  }

  /** Whether the output is still being written (neither committed nor discarded). */
  get isOpen(): boolean {
    return this.fdOrClosed >= 0;
  }

  /** Writes all of `bytes[start, end)`. */
  write(bytes: Uint8Array, start = 0, end = bytes.length): void {
    let done = start;
    while (done < end) done += writeSync(this.fd, bytes, done, end - done);
  }

  /**
   * Runs `writeRest` (the last writes) and commits; if it throws, discards instead and
   * rethrows. Does nothing once committed or discarded.
   */
  finish(writeRest: () => void): void {
    if (!this.isOpen) return;
    try {
      writeRest();
    } catch (error) {
      this.discard();
      throw error;
    }
    this.commit();
  }

  /** Closes the temporary file and renames it over the target. */
  commit(): void {
    const fd = this.fd;
    this.fdOrClosed = -1;
    try {
      closeSync(fd);
      renameSync(this.temporaryPath, this.path);
    } catch (error) {
      removeQuietly(this.temporaryPath);
      throw error;
    }
  }

  /** Closes and removes the temporary file; the target is untouched. Safe to call twice. */
  discard(): void {
    if (this.fdOrClosed < 0) return;
    const fd = this.fdOrClosed;
    this.fdOrClosed = -1;
    try {
      closeSync(fd);
    } finally {
      removeQuietly(this.temporaryPath);
    }
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/** Writes `data` to `path` atomically (see OutputFile). */
export function writeFileAtomic(path: string, data: string | Uint8Array, inputPaths: readonly string[] = []): void {
  const output = OutputFile.create(path, inputPaths);
  try {
    output.write(typeof data === "string" ? new TextEncoder().encode(data) : data);
    output.commit();
  } catch (error) {
    output.discard();
    throw error;
  }
}
