/*
 * The workloads of `bench alloc-threads` (bench/alloc-threads-workloads.ts defines them, and
 * bench/alloc-threads-worker.ts runs them on the memspace Heap) on the C library's malloc and
 * free: glibc's, or mimalloc's or jemalloc's through LD_PRELOAD, on POSIX threads.
 *
 * Usage: alloc-threads-driver WORKLOAD THREADS STEPS LIVE_SLOTS REMOTE_SHARE_256 MIN_BYTES
 *        MAX_BYTES ITERATIONS OBJECT_BYTES REPETITIONS BATCHES BATCH_BLOCKS
 * Output: one JSON line, {"elapsedMs": the slowest thread's timed run, "operations": the
 * mallocs and frees of the timed runs}. Each thread runs the workload once untimed first
 * (but cache-scratch, whose first free is the point), as the JS workers do.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { RING_SLOTS = 4096, MAX_THREADS = 64 };

static struct {
  int workload; /* 0 larson, 1 cache-thrash, 2 cache-scratch, 3 xmalloc */
  int threads;
  long steps, live_slots, remote_share_256, min_bytes, max_bytes;
  long iterations, object_bytes, repetitions, batches, batch_blocks;
} config;

/* A ring a thread is sent blocks through by the one before it: one producer, one consumer. */
typedef struct {
  _Alignas(64) atomic_long head;
  _Alignas(64) atomic_long tail;
  void *slots[RING_SLOTS];
} ring_t;

static ring_t rings[MAX_THREADS];
/* xmalloc: threads done with a pass, which go on freeing what they are sent until all are. */
static atomic_long xmalloc_done;
static pthread_barrier_t barrier;
static void *scratch_objects[MAX_THREADS];

typedef struct {
  int index;
  uint64_t random_state;
  double elapsed_ms;
  long operations;
  long passes;
  void **live;
  void **batch;
} thread_t;

static thread_t threads[MAX_THREADS];

/* xorshift64*: a uniform integer below `limit`. */
static long below(thread_t *self, long limit) {
  uint64_t x = self->random_state;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  self->random_state = x;
  return (long)(((x * 0x2545F4914F6CDD1DULL) >> 32) % (uint64_t)limit);
}

static void *malloc_or_die(size_t size) {
  void *block = malloc(size);
  if (block == NULL) {
    fprintf(stderr, "alloc-threads-driver: out of memory\n");
    exit(1);
  }
  return block;
}

static int send(thread_t *self, void *block) {
  ring_t *ring = &rings[(self->index + 1) % config.threads];
  long head = atomic_load_explicit(&ring->head, memory_order_acquire);
  long tail = atomic_load_explicit(&ring->tail, memory_order_relaxed);
  if (tail - head >= RING_SLOTS) return 0;
  ring->slots[tail % RING_SLOTS] = block;
  atomic_store_explicit(&ring->tail, tail + 1, memory_order_release);
  return 1;
}

static long receive(thread_t *self) {
  ring_t *ring = &rings[self->index];
  long head = atomic_load_explicit(&ring->head, memory_order_relaxed);
  long tail = atomic_load_explicit(&ring->tail, memory_order_acquire);
  long first = head;
  while (head < tail) free(ring->slots[head++ % RING_SLOTS]);
  atomic_store_explicit(&ring->head, head, memory_order_release);
  return head - first;
}

static long larson(thread_t *self) {
  long calls = 0;
  for (long step = 0; step < config.steps; step++) {
    long slot = below(self, config.live_slots);
    void *old = self->live[slot];
    if (old != NULL) {
      if (config.threads == 1 || below(self, 256) >= config.remote_share_256 || !send(self, old)) {
        free(old);
        calls++;
      }
    }
    char *block = malloc_or_die((size_t)(config.min_bytes + below(self, config.max_bytes - config.min_bytes + 1)));
    ((volatile char *)block)[0] = 1;
    self->live[slot] = block;
    calls++;
    if ((step & 63) == 0) calls += receive(self);
  }
  return calls;
}

static long cache_thrash(thread_t *self) {
  (void)self;
  for (long iteration = 0; iteration < config.iterations; iteration++) {
    volatile char *object = malloc_or_die((size_t)config.object_bytes);
    for (long pass = 0; pass < config.repetitions; pass++) {
      for (long at = 0; at < config.object_bytes; at++) object[at] = (char)pass;
    }
    free((void *)object);
  }
  return 2 * config.iterations;
}

static long xmalloc_test(thread_t *self) {
  long calls = 0;
  for (long batch = 0; batch < config.batches; batch++) {
    for (long block = 0; block < config.batch_blocks; block++) {
      char *address = malloc_or_die((size_t)(config.min_bytes + below(self, config.max_bytes - config.min_bytes + 1)));
      ((volatile char *)address)[0] = 1;
      self->batch[block] = address;
    }
    calls += config.batch_blocks;
    for (long block = 0; block < config.batch_blocks; block++) {
      if (config.threads == 1) free(self->batch[block]);
      else
        while (!send(self, self->batch[block])) calls += receive(self);
    }
    if (config.threads == 1) calls += config.batch_blocks;
    calls += receive(self);
  }
  /* Another thread may still wait for room in this one's ring. */
  self->passes++;
  atomic_fetch_add(&xmalloc_done, 1);
  while (atomic_load(&xmalloc_done) < self->passes * config.threads) calls += receive(self);
  return calls;
}

static long run(thread_t *self) {
  switch (config.workload) {
    case 0: return larson(self);
    case 3: return xmalloc_test(self);
    default: return cache_thrash(self);
  }
}

static double now_ms(void) {
  struct timespec time;
  clock_gettime(CLOCK_MONOTONIC, &time);
  return time.tv_sec * 1e3 + time.tv_nsec / 1e6;
}

static void *thread_main(void *argument) {
  thread_t *self = argument;
  if (config.workload != 2) run(self);
  pthread_barrier_wait(&barrier);
  receive(self);
  pthread_barrier_wait(&barrier);
  double start = now_ms();
  long operations = 0;
  if (config.workload == 2) {
    free(scratch_objects[self->index]);
    operations = 1;
  }
  operations += run(self);
  self->elapsed_ms = now_ms() - start;
  self->operations = operations;
  pthread_barrier_wait(&barrier);
  receive(self);
  pthread_barrier_wait(&barrier);
  for (long slot = 0; slot < config.live_slots; slot++) free(self->live[slot]);
  return NULL;
}

int main(int argc, char **argv) {
  static const char *names[] = {"larson", "cache-thrash", "cache-scratch", "xmalloc"};
  if (argc != 13) {
    fprintf(stderr, "usage: %s WORKLOAD THREADS STEPS LIVE_SLOTS REMOTE_SHARE_256 MIN_BYTES MAX_BYTES ITERATIONS OBJECT_BYTES REPETITIONS BATCHES BATCH_BLOCKS\n", argv[0]);
    return 2;
  }
  config.workload = -1;
  for (int i = 0; i < 4; i++)
    if (strcmp(argv[1], names[i]) == 0) config.workload = i;
  config.threads = atoi(argv[2]);
  long *fields[] = {&config.steps, &config.live_slots, &config.remote_share_256, &config.min_bytes, &config.max_bytes, &config.iterations, &config.object_bytes, &config.repetitions, &config.batches, &config.batch_blocks};
  for (int i = 0; i < 10; i++) *fields[i] = atol(argv[3 + i]);
  if (config.workload < 0 || config.threads < 1 || config.threads > MAX_THREADS || config.min_bytes < 1 || config.max_bytes < config.min_bytes || config.object_bytes < 1) {
    fprintf(stderr, "%s: bad arguments\n", argv[0]);
    return 2;
  }
  pthread_barrier_init(&barrier, NULL, (unsigned)config.threads);
  /* The parent's objects, allocated in a row, as Hoard's cache-scratch does: small enough to share cache lines. */
  if (config.workload == 2)
    for (int i = 0; i < config.threads; i++) scratch_objects[i] = malloc_or_die((size_t)config.object_bytes);
  pthread_t ids[MAX_THREADS];
  for (int i = 0; i < config.threads; i++) {
    threads[i].index = i;
    threads[i].random_state = 0x9E3779B97F4A7C15ULL * (uint64_t)(101 + i);
    threads[i].live = calloc((size_t)config.live_slots, sizeof(void *));
    threads[i].batch = calloc((size_t)config.batch_blocks, sizeof(void *));
    if (threads[i].live == NULL || threads[i].batch == NULL) return 1;
    pthread_create(&ids[i], NULL, thread_main, &threads[i]);
  }
  double elapsed_ms = 0;
  long operations = 0;
  for (int i = 0; i < config.threads; i++) {
    pthread_join(ids[i], NULL);
    if (threads[i].elapsed_ms > elapsed_ms) elapsed_ms = threads[i].elapsed_ms;
    operations += threads[i].operations;
  }
  printf("{\"elapsedMs\": %.3f, \"operations\": %ld}\n", elapsed_ms, operations);
  return 0;
}
