/* Sorts 200,000 pseudo-random 64-bit keys with a hand-written quicksort and with qsort. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT 200000

static void quicksort(int64_t *a, long lo, long hi) {
  while (lo < hi) {
    int64_t pivot = a[lo + (hi - lo) / 2];
    long i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        int64_t t = a[i];
        a[i++] = a[j];
        a[j--] = t;
      }
    }
    if (j - lo < hi - i) {
      quicksort(a, lo, j);
      lo = i;
    } else {
      quicksort(a, i, hi);
      hi = j;
    }
  }
}

static int compare(const void *x, const void *y) {
  int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
  return (a > b) - (a < b);
}

int main(void) {
  int64_t *keys = malloc(COUNT * sizeof *keys);
  int64_t *copy = malloc(COUNT * sizeof *copy);
  if (!keys || !copy) return 1;
  uint64_t state = 88172645463325252ull;
  for (long i = 0; i < COUNT; i++) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    keys[i] = (int64_t)state;
  }
  memcpy(copy, keys, COUNT * sizeof *keys);
  quicksort(keys, 0, COUNT - 1);
  qsort(copy, COUNT, sizeof *copy, compare);
  uint64_t checksum = 0;
  for (long i = 0; i < COUNT; i++) {
    if (i > 0 && keys[i - 1] > keys[i]) {
      printf("not sorted at %ld\n", i);
      return 2;
    }
    if (keys[i] != copy[i]) {
      printf("quicksort and qsort differ at %ld\n", i);
      return 3;
    }
    checksum = checksum * 31 + (uint64_t)keys[i];
  }
  printf("sorted %d keys, min %lld max %lld checksum %016llx\n", COUNT, (long long)keys[0], (long long)keys[COUNT - 1],
         (unsigned long long)checksum);
  return 0;
}
