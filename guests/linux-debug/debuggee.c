/* The gdb stub's test guest, built with -O0 -g: a function with arguments and locals, a
 * global written in a loop (to watch), a double (to read from the FP registers), and an exit
 * status computed from them (98). */
#include <stdio.h>

long counter = 0;
double scale = 1.5;

long add_scaled(long a, long b) {
  long local = a + b;
  double scaled = local * scale;
  counter = counter + local;
  return (long)scaled;
}

int main(void) {
  long total = 0;
  for (long i = 1; i <= 3; i++) total += add_scaled(i, i * 10);
  printf("total %ld counter %ld\n", total, counter);
  return (int)(total % 256);
}
