/* libm: elementary functions, rounding, and classification. */
#include <math.h>
#include <stdio.h>

int main(void) {
  for (double x = -2.0; x <= 2.0; x += 0.5) {
    printf("%5.2f: sin %.15g cos %.15g exp %.15g atan %.15g\n", x, sin(x), cos(x), exp(x), atan(x));
  }
  printf("sqrt2 %.17g log10 %.17g pow %.17g hypot %.17g\n", sqrt(2.0), log10(12345.0), pow(1.0001, 10000.0), hypot(3.0, 4.0));
  printf("floor %g ceil %g round %g trunc %g fmod %g\n", floor(-2.5), ceil(-2.5), round(-2.5), trunc(-2.5), fmod(10.0, 3.0));
  printf("inf %f nan %f isnan %d isinf %d\n", INFINITY, NAN, isnan(NAN), isinf(-INFINITY));
  printf("lround %ld float sqrt %.9g\n", lround(2.5), (double)sqrtf(2.0f));
  printf("log %.17g atan2 %.17g %.17g fma %a cbrt %.17g\n", log(10.0), atan2(1.0, -1.0), atan2(-0.0, -1.0), fma(0.1, 10.0, -1.0), cbrt(27.5));
  return 0;
}
