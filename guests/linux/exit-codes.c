/* exit() runs atexit handlers in reverse order and flushes stdio; the status is the low byte. */
#include <stdio.h>
#include <stdlib.h>

static void first(void) { printf("first handler (runs last)\n"); }
static void second(void) { printf("second handler (runs first)\n"); }

int main(int argc, char **argv) {
  atexit(first);
  atexit(second);
  int status = argc > 1 ? atoi(argv[1]) : 300;
  printf("exiting with %d, seen as %d\n", status, status & 0xff);
  exit(status);
}
