/** The benchmarks `memspace bench NAME` runs (bench/NAME.ts), with a line each for --help. */
export const BENCHMARKS = [
  { name: "replay", description: "trace replay on noop, map and paged, and on the native reference replayer where rustc builds it" },
  { name: "guests", description: "guest execution speed (MIPS): translated, interpreted and recording a trace, beside qemu-riscv64" },
  { name: "hooks", description: "what a read hook over 64 bytes costs a running guest, never hit and hit, against no hook" },
  { name: "frames", description: "page-frame allocators: LLFree against a locked buddy and a bitmap scan, 1 and 2 workers" },
  { name: "alloc", description: "heap allocators on seeded workloads: memspace Heap, @thi.ng/malloc, glibc, mimalloc, jemalloc" },
  { name: "alloc-policy", description: "the Heap's region-cache policy on the workloads with large blocks: a grid of fixed policies, the default and adaptive" },
  { name: "alloc-threads", description: "larson, cache-thrash, cache-scratch and xmalloc on 1 and 2 threads: one SharedArrayBuffer heap on worker threads, the same heap under one lock, and glibc, mimalloc and jemalloc on POSIX threads" },
  { name: "cache", description: "three-level cache simulation (I1, D1, LL) in accesses per second on a 100M-op trace, beside Cachegrind's own rate" },
  { name: "parts", description: "trace stats, report, reuse and cache on a 200M-op v2 trace: one thread, one pass with a decode worker, and exact parts on 2 workers" },
  { name: "huge-frames", description: "2 MiB huge frames behind a SpaceHeap's large blocks against 4 KiB frames and the fallback: time per phase, page-table entries" },
  { name: "fpu-diff", description: "a long differential run of the F and D extensions against qemu-riscv64: a correctness soak, not a timing" },
  { name: "startup", description: "the command line's fixed cost (memspace --help, replay of an empty trace) against node -e 0" },
] as const;
/** The name of one of BENCHMARKS. */
export type Benchmark = (typeof BENCHMARKS)[number]["name"];
