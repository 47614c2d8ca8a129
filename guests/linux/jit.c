/* jit: code written at run time runs, and so does the same code rewritten after fence.i. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* addi a0, zero, VALUE; ret */
static void emit_return(uint32_t *code, int value) {
  code[0] = ((uint32_t)value & 0xfff) << 20 | 10u << 7 | 0x13u;
  code[1] = 0x00008067u;
}

int main(void) {
  uint32_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  int (*function)(void) = (int (*)(void))(uintptr_t)code;
  int total = 0;
  for (int value = 1; value <= 100; value++) {
    emit_return(code, value);
    __asm__ volatile("fence.i" ::: "memory");
    int got = function();
    if (got != value) printf("value %d: got %d\n", value, got);
    total += got;
  }
  printf("sum of returned values %d\n", total);
  return 0;
}
