/**
 * The one switch for debug-only pre- and postcondition checks in the allocators' slow paths:
 * `MEMSPACE_DEBUG=1` in the environment, read once when this module loads. A module-level
 * const, so a check behind it costs a predicted branch when it is off.
 */

/** True when the process started with `MEMSPACE_DEBUG=1` (false where there is no `process`, as in a browser). */
export const DEBUG_CHECKS: boolean = typeof process !== "undefined" && process.env?.MEMSPACE_DEBUG === "1";
