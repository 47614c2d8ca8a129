/** Persistence: durable media and the crash tests that check what survives a kill: `memspace/persist`. */
export { FileMedium, SimulatedMedium, type PersistMedium, type Durability } from "../durable/medium.js";
export { runCrashTest, CRASH_TEST_KINDS, type CrashTestKind, type CrashTestOptions, type CrashTestReport } from "../crash/crash-test.js";
