/**
 * Whether debug-only checks run: set `MEMSPACE_DEBUG=1` in the environment. Read once, when
 * this module loads, so a check behind it is a branch on a constant that is never taken
 * when it is off; false where there is no `process` (a browser).
 */
export const DEBUG_CHECKS: boolean = typeof process !== "undefined" && process.env.MEMSPACE_DEBUG === "1";
