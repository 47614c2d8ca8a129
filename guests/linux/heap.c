/* malloc-heavy work: many small blocks, reallocs, and large (mmap-backed) blocks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  enum { SLOTS = 4096 };
  static char *slots[SLOTS];
  static size_t sizes[SLOTS];
  uint32_t state = 7;
  uint64_t checksum = 0;
  for (int round = 0; round < 60000; round++) {
    state ^= state << 13; state ^= state >> 17; state ^= state << 5;
    int slot = state % SLOTS;
    if (slots[slot] != NULL) {
      for (size_t i = 0; i < sizes[slot]; i += 7) checksum += (unsigned char)slots[slot][i];
      if ((state & 1) || sizes[slot] > 2048) { free(slots[slot]); slots[slot] = NULL; continue; }
      size_t grown = sizes[slot] * 2 + 1;
      slots[slot] = realloc(slots[slot], grown);
      memset(slots[slot] + sizes[slot], slot & 0xff, grown - sizes[slot]);
      sizes[slot] = grown;
    } else {
      size_t size = (state >> 8) % 512 + 1;
      slots[slot] = malloc(size);
      memset(slots[slot], round & 0xff, size);
      sizes[slot] = size;
    }
  }
  for (int i = 0; i < SLOTS; i++) free(slots[i]);
  for (int i = 0; i < 8; i++) {
    size_t size = (size_t)(i + 1) << 20;
    char *big = malloc(size);
    memset(big, i, size);
    big = realloc(big, size * 2);
    memset(big + size, i + 1, size);
    for (size_t j = 0; j < size * 2; j += 4096) checksum += (unsigned char)big[j];
    free(big);
  }
  char *zeroed = calloc(1 << 20, 4);
  for (size_t i = 0; i < (4u << 20); i += 512) checksum += zeroed[i];
  free(zeroed);
  printf("checksum %llu\n", (unsigned long long)checksum);
  return 0;
}
