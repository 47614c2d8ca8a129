/** The crash tests `memspace crash-test` runs: the frame allocator's file, and an AddressSpace image. */
export const CRASH_TEST_KINDS = ["frames", "image"] as const;
/** One of CRASH_TEST_KINDS. */
export type CrashTestKind = (typeof CRASH_TEST_KINDS)[number];
