/**
 * memspace's exit statuses, one meaning each, so a script can tell what happened. `run`
 * otherwise exits with the guest's own status (0-255); its two codes of its own sit where
 * coreutils' `timeout` and `env` put theirs, above the statuses guests commonly use.
 */

/** Success. */
export const EXIT_OK = 0;
/** An error memspace reports: a bad trace, a file that cannot be read or written. */
export const EXIT_FAILURE = 1;
/** A usage error: an unknown option or command, a bad option value. */
export const EXIT_USAGE = 2;
/** A bug in memspace itself (an unexpected JavaScript error); the stack is printed. */
export const EXIT_INTERNAL_ERROR = 70;
/** `run`: the guest was stopped by --max-instructions or --timeout before it exited. */
export const EXIT_GUEST_STOPPED = 124;
/**
 * `run`: the emulator could not go on (an ELF it cannot load, a guest fault, an illegal
 * instruction, an unknown system call under --strict-syscalls). `--error-exitcode` changes it.
 */
export const DEFAULT_ERROR_EXIT_CODE = 125;

/** A bad command line found after parsing (e.g. two options that exclude each other). */
export class UsageError extends Error {
  /** Always "UsageError". */
  override readonly name = "UsageError";
}

/** An error already reported (by a child process, say): exit with `exitCode`, print nothing more. */
export class ReportedError extends Error {
  /** Always "ReportedError". */
  override readonly name = "ReportedError";
  /** An error whose report is already out; the process exits with `exitCode`. */
  constructor(
    /** The exit status to use. */
    readonly exitCode: number,
  ) {
    super(`exited with status ${exitCode}`);
  }
}

/** JavaScript errors that mean a bug in memspace rather than bad input. */
export function isInternalError(error: unknown): boolean {
  return error instanceof TypeError || error instanceof ReferenceError || error instanceof SyntaxError || error instanceof EvalError;
}
