/*
 * Replays a memspace allocator workload (bench/alloc/workloads.ts) with the C library's
 * malloc, free and realloc -- glibc's, or mimalloc's or jemalloc's through LD_PRELOAD.
 * Input: a file of int32 triples (op, slot, size). Output: one JSON line with the median
 * ops/s of the timed runs (after a warm-up run), the peak resident set above the driver's
 * own baseline, and what users feel (as bench/alloc/latency.ts measures it for the JS
 * allocators): per-op latency percentiles from a separate run timed in batches, the minor
 * page faults of a timed run, and the peak resident set.
 *
 * Built with -DLOOP_ONLY, the same loop calls an allocator that does nothing (every block
 * is the same static one): its ops/s is what the loop itself costs, to subtract.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

enum { OP_MALLOC = 1, OP_FREE = 2, OP_REALLOC = 3, OP_TOUCH = 4 };

/* Ops per timed batch of the latency run, as LATENCY_BATCH_OPS in bench/alloc/latency.ts
 * (which says why): a clock_gettime (about 20 ns) costs more than a small malloc, so each
 * batch is timed, not each op, and a batch's time over its ops is each op's latency. */
enum { LATENCY_BATCH_OPS = 256 };

#ifdef LOOP_ONLY
/* Out of line, as a library's malloc is: the loop keeps its calls. Big enough for the
 * largest block a workload touches (mixed: 4 MiB). */
static char loop_block[8 << 20];
__attribute__((noinline)) static void *loop_malloc(size_t size) {
  __asm__ volatile("" : : "r"(size));
  return loop_block;
}
__attribute__((noinline)) static void loop_free(void *block) { __asm__ volatile("" : : "r"(block)); }
__attribute__((noinline)) static void *loop_realloc(void *block, size_t size) {
  __asm__ volatile("" : : "r"(block), "r"(size));
  return loop_block;
}
#define REPLAY_MALLOC loop_malloc
#define REPLAY_FREE loop_free
#define REPLAY_REALLOC loop_realloc
#else
#define REPLAY_MALLOC malloc
#define REPLAY_FREE free
#define REPLAY_REALLOC realloc
#endif

/* Replays ops [from, to); inlined, so the timed runs' loop is the one loop it was. */
static inline __attribute__((always_inline)) void replay(const int32_t *ops, void **slot, long from, long to) {
  for (long i = from; i < to; i++) {
    int32_t op = ops[3 * i], s = ops[3 * i + 1], size = ops[3 * i + 2];
    switch (op) {
      case OP_MALLOC:
        slot[s] = REPLAY_MALLOC(size);
        if (size > 0) ((volatile char *)slot[s])[0] = 1;
        break;
      case OP_FREE:
        REPLAY_FREE(slot[s]);
        slot[s] = NULL;
        break;
      case OP_REALLOC:
        slot[s] = REPLAY_REALLOC(slot[s], size);
        break;
      case OP_TOUCH:
        for (int32_t k = 0; k < size; k += 4096) ((volatile char *)slot[s])[k] = 1;
        break;
    }
  }
}

static long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1000000000L + t.tv_nsec;
}

static long minor_faults(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Nearest rank, as bench/alloc/latency.ts. */
static double percentile(const double *sorted, long n, double fraction) {
  double exact = fraction * n;
  long rank = (long)exact;
  if (rank < exact) rank++; /* ceil, without libm */
  return sorted[rank > 0 ? rank - 1 : 0];
}

/* Peak resident set of this program (VmHWM): unlike getrusage's ru_maxrss, it starts
 * afresh at exec, so a large parent (node) does not hide the driver's own peak. */
static long peak_rss_bytes(void) {
  FILE *status = fopen("/proc/self/status", "r");
  char line[256];
  long kib = 0;
  while (status && fgets(line, sizeof line, status))
    if (strncmp(line, "VmHWM:", 6) == 0) kib = atol(line + 6);
  if (status) fclose(status);
  return kib * 1024L;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: alloc-driver OPS_FILE SLOTS RUNS\n");
    return 2;
  }
  FILE *file = fopen(argv[1], "rb");
  if (!file) {
    perror(argv[1]);
    return 1;
  }
  fseek(file, 0, SEEK_END);
  long bytes = ftell(file);
  fseek(file, 0, SEEK_SET);
  int32_t *ops = malloc(bytes);
  if (fread(ops, 1, bytes, file) != (size_t)bytes) {
    fprintf(stderr, "%s: short read\n", argv[1]);
    return 1;
  }
  fclose(file);
  long count = bytes / 12;
  long slots = atol(argv[2]);
  int runs = atoi(argv[3]);
  void **slot = calloc(slots, sizeof(void *));
  /* Resident before the baseline: the slot table is the driver's, not the allocator's (the
   * JS side keeps its slots outside the measured buffer too). */
  memset(slot, 0, slots * sizeof(void *));
  long baseline = peak_rss_bytes();
  double *times = calloc(runs + 1, sizeof(double));
  long faults_before = 0;
  for (int run = 0; run <= runs; run++) {
    if (run == 1) faults_before = minor_faults();
    long start = now_ns();
    replay(ops, slot, 0, count);
    times[run] = (now_ns() - start) * 1e-9;
  }
  long faults_per_run = (minor_faults() - faults_before + runs / 2) / runs;
  /* The latency run, apart from the timed ones so that its clock reads cost ops/s nothing:
   * one clock read a batch boundary (the end of one batch starts the next). */
  long batches = (count + LATENCY_BATCH_OPS - 1) / LATENCY_BATCH_OPS;
  double *per_op_ns = malloc(batches * sizeof(double));
  long before = now_ns();
  for (long batch = 0; batch < batches; batch++) {
    long from = batch * LATENCY_BATCH_OPS, to = from + LATENCY_BATCH_OPS < count ? from + LATENCY_BATCH_OPS : count;
    replay(ops, slot, from, to);
    long after = now_ns();
    per_op_ns[batch] = (double)(after - before) / (to - from);
    before = after;
  }
  qsort(per_op_ns, batches, sizeof(double), compare_doubles);
  /* Run 0 warms up; the median of the others (insertion sort: a handful of runs). */
  for (int i = 2; i <= runs; i++)
    for (int j = i; j > 1 && times[j] < times[j - 1]; j--) {
      double t = times[j];
      times[j] = times[j - 1];
      times[j - 1] = t;
    }
  double median = times[1 + runs / 2];
  long peak = peak_rss_bytes();
  printf("{\"opsPerSec\": %.0f, \"peakFootprintBytes\": %ld, \"p50Ns\": %.1f, \"p99Ns\": %.1f, \"p999Ns\": %.1f, \"maxNs\": %.1f, \"minorFaults\": %ld, \"peakRssBytes\": %ld}\n",
         count / median, peak - baseline, percentile(per_op_ns, batches, 0.5), percentile(per_op_ns, batches, 0.99), percentile(per_op_ns, batches, 0.999),
         per_op_ns[batches - 1], faults_per_run, peak);
  return 0;
}
