/*
 * Replays a memspace allocator workload (bench/alloc/workloads.ts) with the C library's
 * malloc, free and realloc -- glibc's, or mimalloc's or jemalloc's through LD_PRELOAD.
 * Input: a file of int32 triples (op, slot, size). Output: one JSON line with the median
 * ops/s of the timed runs (after a warm-up run) and the peak resident set above the
 * driver's own baseline.
 *
 * Built with -DLOOP_ONLY, the same loop calls an allocator that does nothing (every block
 * is the same static one): its ops/s is what the loop itself costs, to subtract.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { OP_MALLOC = 1, OP_FREE = 2, OP_REALLOC = 3, OP_TOUCH = 4 };

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

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
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
  for (int run = 0; run <= runs; run++) {
    double start = now_seconds();
    for (long i = 0; i < count; i++) {
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
    times[run] = now_seconds() - start;
  }
  /* Run 0 warms up; the median of the others (insertion sort: a handful of runs). */
  for (int i = 2; i <= runs; i++)
    for (int j = i; j > 1 && times[j] < times[j - 1]; j--) {
      double t = times[j];
      times[j] = times[j - 1];
      times[j - 1] = t;
    }
  double median = times[1 + runs / 2];
  printf("{\"opsPerSec\": %.0f, \"peakFootprintBytes\": %ld}\n", count / median, peak_rss_bytes() - baseline);
  return 0;
}
