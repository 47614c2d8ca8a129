/* qsort and bsearch over integers and strings. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ascending(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}
static int by_string(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
  enum { COUNT = 20000 };
  static int values[COUNT];
  unsigned state = 12345;
  for (int i = 0; i < COUNT; i++) { state = state * 1103515245u + 12345u; values[i] = (int)(state >> 8) % 100000 - 50000; }
  qsort(values, COUNT, sizeof values[0], ascending);
  long checksum = 0;
  for (int i = 0; i < COUNT; i++) checksum = checksum * 31 + values[i];
  printf("min %d max %d median %d checksum %ld\n", values[0], values[COUNT - 1], values[COUNT / 2], checksum);
  int key = values[1234];
  int *found = bsearch(&key, values, COUNT, sizeof values[0], ascending);
  printf("bsearch %d: %s\n", key, found != NULL && *found == key ? "found" : "missing");
  const char *words[] = {"pear", "apple", "fig", "banana", "cherry", "date", "elderberry", "grape"};
  qsort(words, 8, sizeof words[0], by_string);
  for (int i = 0; i < 8; i++) printf("%s%s", words[i], i < 7 ? " " : "\n");
  return 0;
}
