/* printf of integers and strings, puts, and a non-zero exit status. */
#include <stdio.h>
#include <stdint.h>

int main(void) {
  printf("hello, %s!\n", "world");
  printf("%d %i %u %x %X %o %ld %lld %zu\n", -42, 7, 3000000000u, 0xbeefu, 0xcafeu, 0755, -1234567890123L, 9223372036854775807LL, sizeof(long));
  printf("[%8d] [%-8d] [%08d] [%+d] [%.3s] [%10s] [%-10s]\n", 42, 42, 42, 42, "abcdef", "right", "left");
  printf("%c%c%c %p %%\n", 'a', 'b', 'c', (void *)0x1234);
  printf("%jd %ju\n", INTMAX_MIN, UINTMAX_MAX);
  puts("done");
  return 7;
}
