/*
 * A native model of `memspace bench frames`' rand order 9 (bench/frames.ts), to tell what
 * the machine gives the benchmark from what our TypeScript costs: the same sharing pattern
 * in C, with none of the allocator's bookkeeping. 8,192 children (4 Gi frames of 4 KiB, as
 * the bench's default 2^22 frames) of 32 per tree, one word each (512: free, 0: a huge
 * frame); half of them allocated and shuffled across the workers. Each worker reserves a
 * tree (an owner word on a cache line of its own) and takes free children there by
 * compareExchange, moving on to the next unreserved tree when its tree has none; a put is a
 * compareExchange on the child word, wherever it lies, so workers free into each other's
 * trees as in the bench.
 *
 * Where a worker looks for its next tree is the search: `home` (the allocator's, see
 * getElsewhere in src/alloc/frames/frame-allocator.ts) first looks in the worker's share of
 * the trees, then the rest; `any` looks onwards from the last tree among all of them, so the
 * workers' trees soon interleave and a get mostly takes a child the other worker wrote last.
 *
 * Usage: frames-rand-model WORKERS [PAIRS [FRAMES [home|any]]]; prints ns per put+get pair
 * (mean over workers). `memspace bench frames` runs it beside rand order 9.
 * Build: gcc -O2 -pthread bench/native/frames-rand-model.c -o /tmp/frames-rand-model
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { FRAMES_PER_CHILD = 512, CHILDREN_PER_TREE = 32, FREE_CHILD = 512, LINE_INTS = 16, MAX_WORKERS = 64 };

static int children;
static int trees;
static _Atomic int *child_words;
static _Atomic int *tree_owners;
static int *held;
static int share;
static int workers;
static long pairs;
static pthread_barrier_t start_line;
static double ns_per_pair[MAX_WORKERS];

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static uint64_t next_random(uint64_t *state) {
  *state ^= *state << 13;
  *state ^= *state >> 7;
  *state ^= *state << 17;
  return *state;
}

static int home_search = 1;

/* The next unreserved tree after `tree`: in the worker's home range first (with home_search). */
static int reserve_after(int tree, int worker) {
  int home_count = trees / workers, home_first = worker * home_count;
  for (int step = 1; step <= trees; step++) {
    int candidate, unowned = 0;
    if (home_search && step <= home_count)
      candidate = home_first + ((tree - home_first + step) % home_count + home_count) % home_count;
    else
      candidate = (tree + step) % trees;
    if (atomic_load_explicit(&tree_owners[candidate * LINE_INTS], memory_order_relaxed) == 0 &&
        atomic_compare_exchange_strong(&tree_owners[candidate * LINE_INTS], &unowned, 1))
      return candidate;
  }
  fprintf(stderr, "no tree to reserve\n");
  exit(1);
}

static int take_child(int *tree, int *hint, int worker) {
  for (;;) {
    for (int step = 0; step < CHILDREN_PER_TREE; step++) {
      int offset = (*hint + step) & (CHILDREN_PER_TREE - 1), child = *tree * CHILDREN_PER_TREE + offset, expected = FREE_CHILD;
      if (atomic_load_explicit(&child_words[child], memory_order_relaxed) == FREE_CHILD &&
          atomic_compare_exchange_strong(&child_words[child], &expected, 0)) {
        *hint = offset;
        return child;
      }
    }
    atomic_store(&tree_owners[*tree * LINE_INTS], 0);
    *tree = reserve_after(*tree, worker);
    *hint = 0;
  }
}

static void *worker_main(void *argument) {
  long worker = (long)argument;
  uint64_t state = 0x9e3779b97f4a7c15ULL * (worker + 1);
  int *mine = held + worker * share, hint = 0;
  int tree = reserve_after(worker * (trees / workers) - 1 + trees, (int)worker);
  pthread_barrier_wait(&start_line);
  double start = now_seconds();
  for (long i = 0; i < pairs; i++) {
    int slot = next_random(&state) % share, expected = 0;
    if (!atomic_compare_exchange_strong(&child_words[mine[slot]], &expected, FREE_CHILD)) {
      fprintf(stderr, "child %d freed twice\n", mine[slot]);
      exit(1);
    }
    mine[slot] = take_child(&tree, &hint, (int)worker);
  }
  ns_per_pair[worker] = (now_seconds() - start) * 1e9 / pairs;
  return NULL;
}

int main(int argc, char **argv) {
  long frames = argc > 3 ? atol(argv[3]) : 1L << 22;
  if (argc > 4) home_search = strcmp(argv[4], "home") == 0 ? 1 : strcmp(argv[4], "any") == 0 ? 0 : -1;
  if (argc < 2 || home_search < 0 || atoi(argv[1]) < 1 || atoi(argv[1]) > MAX_WORKERS || frames < FRAMES_PER_CHILD * CHILDREN_PER_TREE * 2L * atoi(argv[1])) {
    fprintf(stderr, "usage: frames-rand-model WORKERS [PAIRS [FRAMES [home|any]]] (FRAMES: two trees of 16,384 a worker at least)\n");
    return 2;
  }
  workers = atoi(argv[1]);
  pairs = argc > 2 ? atol(argv[2]) : 2000000;
  trees = frames / FRAMES_PER_CHILD / CHILDREN_PER_TREE;
  children = trees * CHILDREN_PER_TREE;
  child_words = calloc(children, sizeof *child_words);
  tree_owners = calloc((size_t)trees * LINE_INTS, sizeof *tree_owners);
  share = children / 2 / workers;
  held = malloc(sizeof(int) * share * workers);
  for (int c = 0; c < children; c++) child_words[c] = FREE_CHILD;
  // Every other child allocated (half of memory, spread over all trees), then shuffled.
  for (int i = 0; i < share * workers; i++) {
    child_words[2 * i] = 0;
    held[i] = 2 * i;
  }
  uint64_t state = 42;
  for (int i = share * workers - 1; i > 0; i--) {
    int j = next_random(&state) % (i + 1), t = held[i];
    held[i] = held[j];
    held[j] = t;
  }
  pthread_barrier_init(&start_line, NULL, workers);
  pthread_t threads[MAX_WORKERS];
  for (long w = 0; w < workers; w++) pthread_create(&threads[w], NULL, worker_main, (void *)w);
  double sum = 0;
  for (int w = 0; w < workers; w++) {
    pthread_join(threads[w], NULL);
    sum += ns_per_pair[w];
  }
  printf("%d worker(s), %s search: %.1f ns per pair\n", workers, home_search ? "home" : "any", sum / workers);
  return 0;
}
