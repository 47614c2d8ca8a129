/**
 * The one switch for debug-only pre- and postcondition checks in the allocators' slow paths
 * and in the frame allocator's get and put: `MEMSPACE_DEBUG=1` in the environment, read once
 * when this module loads, so a check behind it is a branch on a constant that is never taken
 * when it is off.
 */

/** True when the process started with `MEMSPACE_DEBUG=1` (false where there is no `process`, as in a browser). */
export const DEBUG_CHECKS: boolean = typeof process !== "undefined" && process.env?.MEMSPACE_DEBUG === "1";
