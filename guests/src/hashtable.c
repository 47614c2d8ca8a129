/* An open-addressing hash table (linear probing, growth, tombstone-free deletes). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  uint64_t *keys;
  uint64_t *values;
  uint8_t *used;
  uint64_t capacity, count;
} table_t;

static uint64_t hash(uint64_t key) {
  key ^= key >> 33;
  key *= 0xff51afd7ed558ccdull;
  key ^= key >> 33;
  return key;
}

static void table_init(table_t *t, uint64_t capacity) {
  t->capacity = capacity;
  t->count = 0;
  t->keys = calloc(capacity, sizeof *t->keys);
  t->values = calloc(capacity, sizeof *t->values);
  t->used = calloc(capacity, 1);
}

static void table_put(table_t *t, uint64_t key, uint64_t value);

static void table_grow(table_t *t) {
  table_t bigger;
  table_init(&bigger, t->capacity * 2);
  for (uint64_t i = 0; i < t->capacity; i++)
    if (t->used[i]) table_put(&bigger, t->keys[i], t->values[i]);
  free(t->keys);
  free(t->values);
  free(t->used);
  *t = bigger;
}

static void table_put(table_t *t, uint64_t key, uint64_t value) {
  if ((t->count + 1) * 2 > t->capacity) table_grow(t);
  uint64_t i = hash(key) & (t->capacity - 1);
  while (t->used[i] && t->keys[i] != key) i = (i + 1) & (t->capacity - 1);
  if (!t->used[i]) t->count++;
  t->used[i] = 1;
  t->keys[i] = key;
  t->values[i] = value;
}

static int table_get(const table_t *t, uint64_t key, uint64_t *value) {
  uint64_t i = hash(key) & (t->capacity - 1);
  while (t->used[i]) {
    if (t->keys[i] == key) {
      *value = t->values[i];
      return 1;
    }
    i = (i + 1) & (t->capacity - 1);
  }
  return 0;
}

static void table_delete(table_t *t, uint64_t key) {
  uint64_t mask = t->capacity - 1, i = hash(key) & mask;
  while (t->used[i] && t->keys[i] != key) i = (i + 1) & mask;
  if (!t->used[i]) return;
  t->used[i] = 0;
  t->count--;
  /* Backward shift: re-place the rest of the cluster. */
  for (uint64_t j = (i + 1) & mask; t->used[j]; j = (j + 1) & mask) {
    uint64_t k = t->keys[j], v = t->values[j];
    t->used[j] = 0;
    t->count--;
    table_put(t, k, v);
  }
}

int main(void) {
  table_t t;
  table_init(&t, 16);
  uint64_t state = 12345;
  for (uint64_t i = 0; i < 100000; i++) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    table_put(&t, state >> 20, i);
  }
  uint64_t found = 0, sum = 0, value;
  state = 12345;
  for (uint64_t i = 0; i < 100000; i++) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    if (i % 3 == 0) table_delete(&t, state >> 20);
  }
  state = 12345;
  for (uint64_t i = 0; i < 100000; i++) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    if (table_get(&t, state >> 20, &value)) {
      found++;
      sum += value;
    }
  }
  printf("entries %llu capacity %llu found %llu sum %llu\n", (unsigned long long)t.count, (unsigned long long)t.capacity,
         (unsigned long long)found, (unsigned long long)sum);
  return 0;
}
