/* conversions: float <-> integer at the edges (NaN, infinities, beyond int64), strtod and strtof round trips. */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
  volatile double edges[] = {0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2147483647.5, -2147483648.5, 4294967295.9, 9.2233720368547758e18,
                              -9.2233720368547758e18, 1.8446744073709552e19, 1e300, -1e300, INFINITY, -INFINITY, NAN, DBL_MIN, DBL_TRUE_MIN};
  for (unsigned i = 0; i < sizeof edges / sizeof edges[0]; i++) {
    double x = edges[i];
    feclearexcept(FE_ALL_EXCEPT);
    long long l = (long long)x;
    unsigned long long ul = (unsigned long long)x;
    int w = (int)x;
    unsigned uw = (unsigned)x;
    float f = (float)x;
    printf("%-24a l %lld ul %llu w %d uw %u f %a NV %d NX %d\n", x, l, ul, w, uw, (double)f, !!fetestexcept(FE_INVALID),
           !!fetestexcept(FE_INEXACT));
  }
  volatile int64_t big[] = {INT64_MAX, INT64_MIN, (int64_t)1 << 53 | 1, -((int64_t)1 << 53 | 1), 16777217};
  for (unsigned i = 0; i < sizeof big / sizeof big[0]; i++)
    printf("%lld -> %a %a u %a\n", (long long)big[i], (double)big[i], (double)(float)big[i], (double)(uint64_t)big[i]);
  const char *texts[] = {"0.1", "1e-320", "2.2250738585072011e-308", "1.7976931348623157e308", "1e309", "-0", "nan(0x123)", "inf",
                         "0x1.fffffffffffffp-1", "3.4028235e38", "1.17549435e-38", "123456789012345678901234567890"};
  for (unsigned i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    double d = strtod(texts[i], NULL);
    float f = strtof(texts[i], NULL);
    char back[64];
    snprintf(back, sizeof back, "%.17g", d);
    printf("%-32s d %a f %a %.9g round trip %s\n", texts[i], d, (double)f, (double)f, strtod(back, NULL) == d || d != d ? "ok" : "LOST");
  }
  return 0;
}
