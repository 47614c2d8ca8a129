/* setjmp and longjmp, also out of nested calls, with the value passed through. */
#include <setjmp.h>
#include <stdio.h>

static jmp_buf target;
static int depth_reached;

static void descend(int depth) {
  depth_reached = depth;
  if (depth == 50) longjmp(target, depth);
  descend(depth + 1);
}

int main(void) {
  volatile int rounds = 0;
  int value = setjmp(target);
  printf("setjmp returned %d (round %d)\n", value, rounds);
  if (rounds++ < 3) descend(value + 1);
  jmp_buf zero;
  if (setjmp(zero) == 0) longjmp(zero, 0);
  printf("longjmp with 0 returns 1; deepest %d\n", depth_reached);
  return 0;
}
