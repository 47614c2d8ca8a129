/* fenv: every rounding mode through fesetround, and the exception flags fetestexcept sees. */
#include <fenv.h>
#include <math.h>
#include <stdio.h>

static const int MODES[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
static const char *const MODE_NAMES[] = {"nearest", "upward", "downward", "towardzero"};

static void show_flags(const char *what) {
  printf("%-12s NV %d DZ %d OF %d UF %d NX %d\n", what, !!fetestexcept(FE_INVALID), !!fetestexcept(FE_DIVBYZERO),
         !!fetestexcept(FE_OVERFLOW), !!fetestexcept(FE_UNDERFLOW), !!fetestexcept(FE_INEXACT));
}

int main(void) {
  volatile double one = 1.0, three = 3.0, tiny = 1e-300, huge = 1e300, zero = 0.0, minus = -1.0;
  volatile float onef = 1.0f, threef = 3.0f;
  for (int i = 0; i < 4; i++) {
    fesetround(MODES[i]);
    printf("%-10s mode %d: 1/3 %a -1/3 %a 1f/3f %a sqrt2 %a rint(2.5) %g rint(-2.5) %g lrint(-1.5) %ld (float)0.1 %a\n", MODE_NAMES[i],
           fegetround() == MODES[i], one / three, minus / three, (double)(onef / threef), sqrt(2.0 * one), rint(2.5 * one),
           rint(-2.5 * one), lrint(-1.5 * one), (double)(float)(0.1 * one));
    printf("%-10s fma(1+2^-52, 1-2^-52, -1) %a  2^-1074/2 %a\n", MODE_NAMES[i], fma(1 + 0x1p-52 * one, 1 - 0x1p-52 * one, -one),
           0x1p-1074 * one / 2);
  }
  fesetround(FE_TONEAREST);
  feclearexcept(FE_ALL_EXCEPT);
  show_flags("clear");
  volatile double r = one / three;
  show_flags("inexact");
  feclearexcept(FE_ALL_EXCEPT);
  r = one / zero;
  show_flags("divbyzero");
  feclearexcept(FE_ALL_EXCEPT);
  r = huge * huge;
  show_flags("overflow");
  feclearexcept(FE_ALL_EXCEPT);
  r = tiny * tiny;
  show_flags("underflow");
  feclearexcept(FE_ALL_EXCEPT);
  r = sqrt(minus);
  show_flags("invalid");
  feclearexcept(FE_ALL_EXCEPT);
  r = zero / zero;
  show_flags("0/0");
  (void)r;
  return 0;
}
