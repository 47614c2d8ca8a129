/**
 * Synchronisation points: the allocator calls `point()` between the steps another worker
 * could interleave with (before each atomic read-modify-write). Normally null and never
 * called; the interleaving harness installs one to run workers in a seeded order.
 */
export interface SyncHook {
  /** Called before each step another worker could interleave with; may switch to another worker. */
  point(): void;
}
